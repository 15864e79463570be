"""The outlet rules as pure functions, and their settings."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from central.parcels.config import ParcelAlarmRule, ParcelRulesConfig
from central.parcels.rates import DailyRates
from central.rules import parcels as rules
from central.rules.config import RulesConfig
from tests.central.ingest.helpers import NOW


def _facts(*flags: str) -> rules.ParcelFacts:
    return rules.ParcelFacts("p1", "outlet-1", "SF1", flags, NOW)


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ((), None),
        (("NO_XRAY",), "warning"),
        (("NO_REAL_NAME", "SHORT_INSPECTION"), "warning"),
        (("XRAY_ALARM",), "critical"),
    ],
)
def test_noncompliant_parcel(flags: tuple[str, ...], level: str | None) -> None:
    trigger = rules.noncompliant_parcel(_facts(*flags), ParcelRulesConfig())
    assert (trigger.level if trigger else None) == level
    if trigger is not None:
        assert (trigger.type, trigger.subject, trigger.site_id) == (
            "parcel_noncompliant",
            "outlet-1/p1",
            "outlet-1",
        )
        assert all(flag in trigger.detail for flag in flags)
        assert trigger.params == {"parcel": "SF1", "flags": ", ".join(flags)}


@pytest.mark.parametrize(
    ("counts", "fires"),
    [
        ((4, 4, 4, 4), False),
        ((0, 0, 0, 0), False),
        ((4, 3, 4, 4), True),
        ((4, 4, 3, 4), True),
        ((4, 4, 4, 0), True),
    ],
)
def test_outlet_below_target(counts: tuple[int, int, int, int], fires: bool) -> None:
    rates = DailyRates("outlet-1", date(2026, 11, 26), *counts)
    trigger = rules.outlet_below_target(rates, NOW, ParcelAlarmRule())
    assert (trigger is not None) == fires
    if trigger is not None:
        assert trigger.subject == "outlet-1/2026-11-26"
        assert "of 4 parcels" in trigger.detail
        assert trigger.params["parcels"] == 4 and trigger.params["day"] == "2026-11-26"
        assert trigger.params["xray_pct"] == rates.xray_pct


def test_rates_in_percent() -> None:
    rates = DailyRates("o", date(2026, 11, 26), parcels=3, real_name=2, inspected=3, xray=1)
    assert (rates.real_name_pct, rates.inspection_pct, rates.xray_pct) == (66.67, 100.0, 33.33)
    assert not rates.complete
    assert DailyRates("o", date(2026, 11, 26), 0, 0, 0, 0).xray_pct == 100.0


@pytest.mark.parametrize(
    ("outlets", "fires"),
    [(["outlet-1"], False), (["outlet-1", "outlet-1"], False), (["outlet-2", "outlet-1"], True)],
)
def test_waybill_two_outlets(outlets: list[str], fires: bool) -> None:
    trigger = rules.waybill_two_outlets("SF1", outlets, NOW, ParcelAlarmRule(level="critical"))
    assert (trigger is not None) == fires
    if trigger is not None:
        assert (trigger.subject, trigger.level) == ("waybill/SF1", "critical")
        assert "outlet-1, outlet-2" in trigger.detail
        assert trigger.params == {"waybill": "SF1", "outlets": "outlet-1, outlet-2"}


def test_disabled_rules_stay_silent() -> None:
    off = ParcelAlarmRule(enabled=False)
    config = ParcelRulesConfig(noncompliant_parcel=off)
    assert rules.noncompliant_parcel(_facts("NO_XRAY"), config) is None
    assert rules.waybill_two_outlets("SF1", ["a", "b"], NOW, off) is None
    assert rules.unknown_device("rogue", "", NOW, off) is None
    low = DailyRates("o", date(2026, 11, 26), 2, 1, 1, 1)
    assert rules.outlet_below_target(low, NOW, off) is None


def test_unknown_device_subject_is_the_device() -> None:
    trigger = rules.unknown_device("rogue", "rogue is not an active device", NOW, ParcelAlarmRule())
    assert trigger is not None
    assert (trigger.type, trigger.subject, trigger.site_id) == (
        "unknown_device",
        "device/rogue",
        None,
    )


@pytest.mark.parametrize(
    ("section", "error"),
    [
        ({"day_timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"noncompliant_parcel": {"levle": "info"}}, "levle"),
        ({"waybill_two_outlet": {}}, "waybill_two_outlet"),
        ({"unknown_device": {"level": "loud"}}, "level"),
    ],
)
def test_bad_settings_are_named(section: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        RulesConfig.model_validate({"parcels": section})
