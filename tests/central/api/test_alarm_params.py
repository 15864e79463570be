"""Alarm parameters: each rule names the facts of its English detail, alarms keep them, and the
API and the live feed carry them next to the unchanged ``detail``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central.alarms.lifecycle import alarm_item, raise_alarm
from central.db.events_models import Alarm
from central.registry.queries import PersonWindow
from central.rules import correlate
from central.rules.config import (
    DenialBurstRule,
    DeviceOfflineRule,
    IngestBacklogRule,
    StaleGrantRule,
    UnknownFaceRule,
    VisitorOverstayRule,
)
from central.rules.correlate import AlarmTrigger, DeviceFacts, VisitFacts
from edge.contract import AccessDecision, Envelope
from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _decision(decision: str, person_id: str | None = None) -> Envelope:
    payload = AccessDecision.model_validate(
        {
            "gate_id": "east",
            "decision": decision,
            "reason": "r",
            "method": "card",
            "person_id": person_id,
        }
    )
    return Envelope(site_id="c1", device_id="gate-e", occurred_at=NOW, payload=payload)


def _visitor(
    valid_from: datetime | None, valid_until: datetime | None, active: bool = True
) -> PersonWindow:
    return PersonWindow("vis-1", "visitor", "c1", valid_from, valid_until, active)


def test_event_rules_name_their_facts() -> None:
    unknown = correlate.unknown_face(_decision("unknown"), 5, UnknownFaceRule(window_s=60))
    assert unknown is not None
    assert unknown.detail == "5 unknown faces within 60 s"
    assert unknown.params == {"gate_id": "east", "attempts": 5, "window_s": 60}
    burst = correlate.denial_burst(_decision("denied"), 12, DenialBurstRule(window_s=120))
    assert burst is not None and burst.params == {"denials": 12, "window_s": 120}


@pytest.mark.parametrize(
    ("person", "reason", "edge"),
    [
        (None, "not_registered", None),
        (_visitor(None, None, active=False), "inactive", None),
        (_visitor(NOW - 2 * H, NOW - H), "window_ended", NOW - H),
        (_visitor(NOW + H, NOW + 2 * H), "window_not_started", NOW + H),
    ],
)
def test_stale_grants_name_why_and_the_windows_edge(
    person: PersonWindow | None, reason: str, edge: datetime | None
) -> None:
    trigger = correlate.stale_grant(_decision("granted", "vis-1"), person, StaleGrantRule())
    assert trigger is not None
    expected = {"person_id": "vis-1", "gate_id": "east", "method": "card", "reason": reason}
    if edge is not None:
        expected["edge"] = edge.isoformat()
        assert trigger.detail.endswith(edge.isoformat())
    assert trigger.params == expected
    assert trigger.detail.startswith("vis-1 admitted at east by card: ")


def test_state_rules_name_their_facts() -> None:
    device = DeviceFacts("gate-e", "c1", NOW - timedelta(seconds=300), NOW - H, False)
    offline = correlate.device_offline(device, NOW, DeviceOfflineRule())
    assert offline is not None and offline.detail == "gate-e silent for 300 s, offline"
    assert offline.params == {"device_id": "gate-e", "silent_s": 300, "online": False}
    visit = VisitFacts("vis-1", "c1", "east", NOW, NOW + H)
    overstay = correlate.visitor_overstay(visit, NOW + 3 * H, VisitorOverstayRule())
    assert overstay is not None
    assert overstay.params == {
        "visitor_id": "vis-1",
        "gate_id": "east",
        "valid_until": (NOW + H).isoformat(),
    }
    backlog = correlate.ingest_backlog("w1", 25_000, 42.4, NOW, IngestBacklogRule())
    assert backlog is not None
    assert backlog.params == {"worker_id": "w1", "waiting": 25_000, "lag_s": 42}


def test_the_api_and_the_feed_carry_params_beside_the_detail(
    central: Central, world: World
) -> None:
    site = world.ids["a"]["compound_id"]
    first = AlarmTrigger(
        "unknown_face",
        "warning",
        site,
        f"{site}/east",
        NOW,
        "3 unknown faces within 60 s",
        "east",
        {"gate_id": "east", "attempts": 3, "window_s": 60},
    )
    repeat = AlarmTrigger(
        "unknown_face",
        "warning",
        site,
        f"{site}/east",
        NOW + H,
        "4 unknown faces within 60 s",
        "east",
        {"gate_id": "east", "attempts": 4, "window_s": 60},
    )
    with central.sessions() as session:
        alarm, _ = raise_alarm(session, first)
        session.commit()
        raise_alarm(session, repeat)
        session.commit()
        alarm_id = alarm.id
        assert alarm_item(alarm)["params"] == {"gate_id": "east", "attempts": 4, "window_s": 60}
    reply = central.client.get(f"/api/alarms/{alarm_id}", headers=bearer(world.tokens["viewer_a"]))
    body = reply.json()
    assert (body["type"], body["detail"], body["count"]) == (
        "unknown_face",
        "4 unknown faces within 60 s",
        2,
    )
    assert body["params"] == {"gate_id": "east", "attempts": 4, "window_s": 60}


def test_alarms_raised_without_params_list_an_empty_set(central: Central, world: World) -> None:
    with central.sessions() as session:
        stored = session.get(Alarm, int(world.ids["a"]["alarm_id"]))
        assert stored is not None and stored.params == {}
    reply = central.client.get("/api/alarms", headers=bearer(world.tokens["viewer_a"]))
    listed = {alarm["id"]: alarm for alarm in reply.json()}
    assert listed[int(world.ids["a"]["alarm_id"])]["params"] == {}
