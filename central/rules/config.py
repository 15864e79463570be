"""Rule settings (YAML section ``central.rules``); unknown keys are refused, naming the key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from central.parcels.config import ParcelRulesConfig

Level = Literal["info", "warning", "critical"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Whether the rule raises alarms.")


class UnknownFaceRule(_Rule):
    """Unknown faces tried again and again at one gate."""

    level: Level = "warning"
    attempts: int = Field(default=5, ge=1, description="Unknown-face decisions at one gate…")
    window_s: float = Field(default=120.0, gt=0, description="…within this many seconds.")


class DenialBurstRule(_Rule):
    """Many denials (any method) across one site in a short time."""

    level: Level = "warning"
    denials: int = Field(default=10, ge=1, description="Denied decisions at one site…")
    window_s: float = Field(default=60.0, gt=0, description="…within this many seconds.")


class StaleGrantRule(_Rule):
    """A gate admitted someone whose residency or visit had ended (its gallery is stale)."""

    level: Level = "critical"
    grace_s: float = Field(default=60.0, ge=0, description="Clock skew tolerated at the edge.")


class DeviceOfflineRule(_Rule):
    """A device stopped sending heartbeats (checked periodically)."""

    level: Level = "critical"
    heartbeat_interval_s: float = Field(default=30.0, gt=0, description="As devices send them.")
    missed_heartbeats: int = Field(default=3, ge=1, description="Missed before the alarm.")


class VisitorOverstayRule(_Rule):
    """A visitor admitted at an entry gate, not seen leaving, whose window has ended."""

    level: Level = "warning"
    grace_s: float = Field(default=1800.0, ge=0, description="Tolerated after valid_until.")
    exit_gate_ids: list[str] = Field(
        default_factory=list, description="Gates whose grants mean leaving; all others: entering."
    )
    lookback_s: float = Field(
        default=3 * 86400.0, gt=0, description="How far back entries are looked for."
    )


class IngestBacklogRule(_Rule):
    """An ingest worker fell behind (thresholds in the ingest settings)."""

    level: Level = "critical"


class RulesConfig(BaseModel):
    """Every correlation rule, and how often the periodic checks run."""

    model_config = ConfigDict(extra="forbid")

    unknown_face: UnknownFaceRule = Field(default_factory=UnknownFaceRule)
    denial_burst: DenialBurstRule = Field(default_factory=DenialBurstRule)
    stale_grant: StaleGrantRule = Field(default_factory=StaleGrantRule)
    device_offline: DeviceOfflineRule = Field(default_factory=DeviceOfflineRule)
    visitor_overstay: VisitorOverstayRule = Field(default_factory=VisitorOverstayRule)
    ingest_backlog: IngestBacklogRule = Field(default_factory=IngestBacklogRule)
    parcels: ParcelRulesConfig = Field(default_factory=ParcelRulesConfig)
    check_interval_s: float = Field(
        default=30.0, gt=0, description="Period of the offline and overstay checks."
    )
