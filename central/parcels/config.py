"""Parcel rule settings (YAML ``central.rules.parcels``); unknown keys are refused by name."""

from __future__ import annotations

from datetime import tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Level = Literal["info", "warning", "critical"]


class ParcelAlarmRule(BaseModel):
    """One parcel alarm: whether it is raised, and how loud."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Whether the rule raises alarms.")
    level: Level = Field(default="warning", description="Level of the alarms it raises.")


def _rule(level: Level) -> ParcelAlarmRule:
    return ParcelAlarmRule(level=level)


class ParcelRulesConfig(BaseModel):
    """The outlet rules: non-compliant parcels, daily rates, duplicate waybills, rogue devices."""

    model_config = ConfigDict(extra="forbid")

    day_timezone: str = Field(
        default="Asia/Shanghai", description="Time zone whose calendar days the rates count."
    )
    noncompliant_parcel: ParcelAlarmRule = Field(
        default_factory=lambda: _rule("warning"), description="A parcel with any flag."
    )
    xray_hit_level: Level = Field(
        default="critical", description="Level instead when the X-ray detector flagged the parcel."
    )
    outlet_below_target: ParcelAlarmRule = Field(
        default_factory=lambda: _rule("warning"), description="An outlet's day below 100%."
    )
    waybill_two_outlets: ParcelAlarmRule = Field(
        default_factory=lambda: _rule("critical"), description="One waybill at two outlets."
    )
    unknown_device: ParcelAlarmRule = Field(
        default_factory=lambda: _rule("critical"), description="Events from no registered device."
    )

    @field_validator("day_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @property
    def zone(self) -> tzinfo:
        """The time zone of ``day_timezone``."""
        return ZoneInfo(self.day_timezone)
