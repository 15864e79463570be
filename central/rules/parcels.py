"""The outlet rules as pure functions: a parcel's, a day's, a waybill's or a device's facts and
the rule's settings in; an alarm trigger or None out."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from central.parcels.config import ParcelAlarmRule, ParcelRulesConfig
from central.parcels.rates import DailyRates
from central.rules.correlate import AlarmTrigger


@dataclass(frozen=True)
class ParcelFacts:
    """One parcel as its latest inspection left it."""

    parcel_id: str
    outlet_id: str
    waybill_number: str | None
    flags: tuple[str, ...]
    at: datetime


def noncompliant_parcel(parcel: ParcelFacts, rules: ParcelRulesConfig) -> AlarmTrigger | None:
    """A parcel inspected with any flag (louder when the X-ray detector flagged it)."""
    rule = rules.noncompliant_parcel
    if not rule.enabled or not parcel.flags:
        return None
    level = rules.xray_hit_level if "XRAY_ALARM" in parcel.flags else rule.level
    name = parcel.waybill_number or f"parcel {parcel.parcel_id}"
    return AlarmTrigger(
        "parcel_noncompliant",
        level,
        parcel.outlet_id,
        f"{parcel.outlet_id}/{parcel.parcel_id}",
        parcel.at,
        f"{name}: {', '.join(parcel.flags)}",
        params={"parcel": name, "flags": ", ".join(parcel.flags)},
    )


def outlet_below_target(
    rates: DailyRates, at: datetime, rule: ParcelAlarmRule
) -> AlarmTrigger | None:
    """An outlet whose day is below 100% on any of the three rates (one alarm per day)."""
    if not rule.enabled or rates.complete:
        return None
    return AlarmTrigger(
        "outlet_below_target",
        rule.level,
        rates.outlet_id,
        f"{rates.outlet_id}/{rates.day.isoformat()}",
        at,
        f"{rates.day.isoformat()}: real name {rates.real_name_pct:g}%, inspection "
        f"{rates.inspection_pct:g}%, X-ray {rates.xray_pct:g}% of {rates.parcels} parcels",
        params={
            "day": rates.day.isoformat(),
            "real_name_pct": rates.real_name_pct,
            "inspection_pct": rates.inspection_pct,
            "xray_pct": rates.xray_pct,
            "parcels": rates.parcels,
        },
    )


def waybill_two_outlets(
    number: str, outlet_ids: Collection[str], at: datetime, rule: ParcelAlarmRule
) -> AlarmTrigger | None:
    """One waybill number inspected at more than one outlet."""
    if not rule.enabled or len(set(outlet_ids)) < 2:
        return None
    return AlarmTrigger(
        "waybill_two_outlets",
        rule.level,
        None,
        f"waybill/{number}",
        at,
        f"waybill {number} seen at outlets {', '.join(sorted(set(outlet_ids)))}",
        params={"waybill": number, "outlets": ", ".join(sorted(set(outlet_ids)))},
    )


def unknown_device(
    device_id: str, detail: str, at: datetime, rule: ParcelAlarmRule
) -> AlarmTrigger | None:
    """Events signed in the name of a device that is not registered (or not active)."""
    if not rule.enabled:
        return None
    return AlarmTrigger(
        "unknown_device", rule.level, None, f"device/{device_id}", at, detail or device_id
    )
