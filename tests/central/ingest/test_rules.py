"""The correlation rules as pure functions, table by table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from central.rules import correlate
from central.rules.config import (
    DenialBurstRule,
    DeviceOfflineRule,
    StaleGrantRule,
    UnknownFaceRule,
    VisitorOverstayRule,
)
from central.rules.correlate import DeviceFacts, VisitFacts
from edge.contract import AccessDecision, Envelope, Heartbeat
from tests.central.ingest.helpers import NOW

H = timedelta(hours=1)


def _event(decision: str, method: str = "face", person_id: str | None = None) -> Envelope:
    payload = AccessDecision.model_validate(
        {
            "gate_id": "east",
            "decision": decision,
            "reason": "r",
            "method": method,
            "person_id": person_id,
        }
    )
    return Envelope(site_id="c1", device_id="gate-e", occurred_at=NOW, payload=payload)


@pytest.mark.parametrize(
    ("decision", "method", "person_id", "attempts", "fires"),
    [
        ("unknown", "face", None, 5, True),
        ("unknown", "face", None, 4, False),
        ("denied", "face", None, 9, True),
        ("denied", "face", "res-1", 9, False),
        ("denied", "card", None, 9, False),
        ("granted", "face", "res-1", 9, False),
    ],
)
def test_unknown_face(
    decision: str, method: str, person_id: str | None, attempts: int, fires: bool
) -> None:
    trigger = correlate.unknown_face(
        _event(decision, method, person_id), attempts, UnknownFaceRule()
    )
    assert (trigger is not None) == fires
    if trigger is not None:
        assert (trigger.type, trigger.subject, trigger.gate_id) == (
            "unknown_face",
            "c1/east",
            "east",
        )


@pytest.mark.parametrize(
    ("decision", "denials", "enabled", "fires"),
    [
        ("denied", 10, True, True),
        ("denied", 9, True, False),
        ("denied", 50, False, False),
        ("unknown", 50, True, False),
    ],
)
def test_denial_burst(decision: str, denials: int, enabled: bool, fires: bool) -> None:
    rule = DenialBurstRule(enabled=enabled)
    trigger = correlate.denial_burst(_event(decision, "card"), denials, rule)
    assert (trigger is not None) == fires
    if trigger is not None:
        assert trigger.subject == "c1"


@dataclass(frozen=True)
class Person:
    person_id: str = "vis-1"
    person_kind: str = "visitor"
    valid_from: datetime | None = NOW - H
    valid_until: datetime | None = NOW + H
    active: bool = True


@pytest.mark.parametrize(
    ("person", "fires"),
    [
        (Person(), False),
        (None, True),
        (Person(active=False), True),
        (Person(valid_until=NOW - H), True),
        (Person(valid_until=NOW - timedelta(seconds=30)), False),  # within the 60 s grace
        (Person(valid_from=NOW + H), True),
        (Person(person_kind="resident", valid_from=None, valid_until=None), False),
    ],
)
def test_stale_grant(person: Person | None, fires: bool) -> None:
    trigger = correlate.stale_grant(_event("granted", "face", "vis-1"), person, StaleGrantRule())
    assert (trigger is not None) == fires
    if trigger is not None:
        assert (trigger.type, trigger.level, trigger.subject) == (
            "stale_grant",
            "critical",
            "c1/vis-1",
        )


def test_stale_grant_ignores_denials_and_anonymous_grants() -> None:
    rule = StaleGrantRule()
    assert correlate.stale_grant(_event("denied", "face", "vis-1"), None, rule) is None
    assert correlate.stale_grant(_event("granted", "guard"), None, rule) is None
    heartbeat = Envelope(site_id="c1", device_id="d", payload=Heartbeat(uptime_s=1, outbox_depth=0))
    assert correlate.stale_grant(heartbeat, None, rule) is None


@pytest.mark.parametrize(
    ("heartbeat_age_s", "online", "fires"),
    [(10, True, False), (90, True, False), (91, True, True), (10, False, True), (None, True, True)],
)
def test_device_offline(heartbeat_age_s: float | None, online: bool, fires: bool) -> None:
    beat = NOW - timedelta(seconds=heartbeat_age_s) if heartbeat_age_s is not None else None
    device = DeviceFacts("gate-e", "c1", beat, NOW - timedelta(seconds=500), online)
    trigger = correlate.device_offline(device, NOW, DeviceOfflineRule())
    assert (trigger is not None) == fires
    if trigger is not None:
        assert trigger.subject == "gate-e"


@pytest.mark.parametrize(
    ("last_gate", "granted_at", "now", "fires"),
    [
        ("east", NOW, NOW + 3 * H, True),
        ("east", NOW, NOW + H + timedelta(minutes=29), False),  # within 30 min grace
        ("west", NOW, NOW + 3 * H, False),  # last seen at an exit gate
        ("east", NOW + 2 * H, NOW + 3 * H, False),  # granted after the window: stale grant
    ],
)
def test_visitor_overstay(last_gate: str, granted_at: datetime, now: datetime, fires: bool) -> None:
    visit = VisitFacts("vis-1", "c1", last_gate, granted_at, NOW + H)
    rule = VisitorOverstayRule(exit_gate_ids=["west"])
    trigger = correlate.visitor_overstay(visit, now, rule)
    assert (trigger is not None) == fires
    if trigger is not None:
        assert (trigger.subject, trigger.gate_id) == ("c1/vis-1", "east")
