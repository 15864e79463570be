"""Alarm service on SQLite and PostgreSQL: rules run on ingested events and periodic checks,
repeats update the open alarm, the lifecycle, and alarms fed to the live feed after commit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from central.alarms.lifecycle import AlarmStateError, acknowledge, clear, raise_alarm
from central.alarms.service import AlarmService
from central.db.events_models import Alarm
from central.db.registry_models import Resident
from central.ingest.pipeline import IngestPipeline
from central.ingest.worker import BacklogReport
from central.registry.queries import device_info
from central.rules.config import RulesConfig, VisitorOverstayRule
from central.rules.correlate import AlarmTrigger
from edge.contract import AccessDecision, Heartbeat
from tests.central.ingest.helpers import NOW, Sink, World
from tests.central.ingest.mqtt_helpers import wait_until

S = timedelta(seconds=1)


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def alarms(sessions: sessionmaker[Session], sink: Sink) -> AlarmService:
    rules = RulesConfig(visitor_overstay=VisitorOverstayRule(exit_gate_ids=["west"]))
    return AlarmService(sessions, rules, sink)


@pytest.fixture
def pipeline(sessions: sessionmaker[Session], alarms: AlarmService) -> IngestPipeline:
    return IngestPipeline(sessions, device_info, [alarms.on_events])


def _open(sessions: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    with sessions() as session:
        rows = session.scalars(select(Alarm).where(Alarm.state != "cleared").order_by(Alarm.id))
        return [(a.type, a.subject, a.count) for a in rows]


def _decision(
    gate: str, decision: str, person_id: str | None = None, method: str = "face"
) -> AccessDecision:
    return AccessDecision.model_validate(
        {
            "gate_id": gate,
            "decision": decision,
            "reason": "r",
            "method": method,
            "person_id": person_id,
        }
    )


# (gate, decision, person, seconds after NOW) per event, in arrival order, then the open alarms.
SCENARIOS: list[tuple[str, list[tuple[str, str, str | None, int]], list[tuple[str, str, int]]]] = [
    ("four unknown faces: quiet", [("east", "unknown", None, i) for i in range(4)], []),
    (
        "five unknown faces at one gate",
        [("east", "unknown", None, i) for i in range(5)],
        [("unknown_face", "c1/east", 1)],
    ),
    (
        "seven: one alarm, counted three times",
        [("east", "unknown", None, i) for i in range(7)],
        [("unknown_face", "c1/east", 3)],
    ),
    (
        "spread over two gates: quiet",
        [("east" if i % 2 else "west", "unknown", None, i) for i in range(8)],
        [],
    ),
    (
        "outside the 120 s window: quiet",
        [("east", "unknown", None, i * 40) for i in range(5)],
        [],
    ),
    (
        "ten denials across the site",
        [("east" if i % 2 else "west", "denied", "res-1", i) for i in range(10)],
        [("denial_burst", "c1", 1)],
    ),
    ("a grant in the visitor's window", [("east", "granted", "vis-1", 0)], []),
    (
        "a grant after the visitor's window",
        [("east", "granted", "vis-1", 3 * 3600), ("west", "granted", "vis-1", 3 * 3600 + 5)],
        [("stale_grant", "c1/vis-1", 2)],
    ),
    (
        "a grant to someone unknown",
        [("east", "granted", "ghost", 0)],
        [("stale_grant", "c1/ghost", 1)],
    ),
]


@pytest.mark.parametrize(("name", "events", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_event_rules(
    name: str,
    events: list[tuple[str, str, str | None, int]],
    expected: list[tuple[str, str, int]],
    world: World,
    pipeline: IngestPipeline,
    sessions: sessionmaker[Session],
) -> None:
    for gate, decision, person, offset_s in events:
        device = "gate-e" if gate == "east" else "gate-w"
        message = world.message(device, _decision(gate, decision, person), NOW + offset_s * S)
        pipeline.process([message])
    assert _open(sessions) == expected


def test_one_batch_counts_once_per_gate(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session], sink: Sink
) -> None:
    batch = [world.message("gate-e", _decision("east", "unknown"), NOW + i * S) for i in range(6)]
    pipeline.process(batch)
    assert _open(sessions) == [("unknown_face", "c1/east", 1)]
    assert [(kind, item["type"]) for kind, item in sink.items] == [("alarm", "unknown_face")]


def test_moved_out_resident_granted(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        resident = session.get(Resident, world.resident_id)
        assert resident is not None
        resident.moved_out_at = NOW - timedelta(days=1)
    pipeline.process([world.message("gate-e", _decision("east", "granted", "res-1"))])
    assert _open(sessions) == [("stale_grant", "c1/res-1", 1)]


def test_device_offline_check_deduplicates(
    world: World, pipeline: IngestPipeline, alarms: AlarmService, sessions: sessionmaker[Session]
) -> None:
    pipeline.process(
        [
            world.message("gate-e", Heartbeat(uptime_s=1, outbox_depth=0), NOW),
            world.message("gate-w", Heartbeat(uptime_s=1, outbox_depth=0), NOW + 60 * S),
        ]
    )
    assert alarms.run_checks(NOW + 80 * S) == []
    first = alarms.run_checks(NOW + 100 * S)
    again = alarms.run_checks(NOW + 130 * S)
    assert first == again and len(first) == 1
    assert _open(sessions) == [("device_offline", "gate-e", 2)]


@pytest.mark.parametrize(
    ("gates", "fires"),
    [(["east"], True), (["east", "west"], False), (["west", "east"], True), ([], False)],
)
def test_visitor_overstay_check(
    gates: list[str],
    fires: bool,
    world: World,
    pipeline: IngestPipeline,
    alarms: AlarmService,
    sessions: sessionmaker[Session],
) -> None:
    for i, gate in enumerate(gates):
        device = "gate-e" if gate == "east" else "gate-w"
        pipeline.process([world.message(device, _decision(gate, "granted", "vis-1"), NOW + i * S)])
    alarms.run_checks(NOW + timedelta(hours=3))
    assert _open(sessions) == ([("visitor_overstay", "c1/vis-1", 1)] if fires else [])


def test_backlog_raises_a_central_alarm(
    alarms: AlarmService, sessions: sessionmaker[Session]
) -> None:
    alarms.on_backlog(BacklogReport("central-1", waiting=25_000, lag_s=3.0))
    alarms.on_backlog(BacklogReport("central-1", waiting=30_000, lag_s=9.0))
    with sessions() as session:
        alarm = session.scalars(select(Alarm)).one()
    assert (alarm.type, alarm.site_id, alarm.count, alarm.level) == (
        "ingest_backlog",
        None,
        2,
        "critical",
    )


def test_lifecycle_and_reopening(world: World, sessions: sessionmaker[Session]) -> None:
    trigger = AlarmTrigger("unknown_face", "warning", "c1", "c1/east", NOW, "x", "east")
    with sessions() as session, session.begin():
        alarm, new = raise_alarm(session, trigger)
        assert new
        acknowledge(alarm, "op")
        with pytest.raises(AlarmStateError):
            acknowledge(alarm, "op")
    with sessions() as session, session.begin():
        repeat, new = raise_alarm(session, trigger)
        assert (new, repeat.id, repeat.state, repeat.count) == (False, alarm.id, "acknowledged", 2)
        clear(repeat, "op", "checked on camera")
        with pytest.raises(AlarmStateError):
            clear(repeat, "op")
    with sessions() as session, session.begin():
        reopened, new = raise_alarm(session, trigger)
        assert new and reopened.id != alarm.id
        comments = [c.text for c in session.get_one(Alarm, alarm.id).comments]
    assert comments == ["acknowledged", "cleared: checked on camera"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite serialises writers
def test_concurrent_raise_keeps_one_open_alarm(
    world: World, sessions: sessionmaker[Session], db_engine: Engine
) -> None:
    trigger = AlarmTrigger("device_offline", "critical", "c1", "gate-e", NOW)
    outcome: dict[str, bool] = {}

    def second_worker() -> None:
        with sessions() as session, session.begin():
            outcome["new"] = raise_alarm(session, trigger)[1]

    with sessions() as first, first.begin():
        raise_alarm(first, trigger)
        first.flush()
        thread = threading.Thread(target=second_worker)
        thread.start()
        wait_until(lambda: _waiting_on_locks(db_engine) > 0, 10, "the second insert to block")
    thread.join(10)
    assert outcome == {"new": False}
    assert _open(sessions) == [("device_offline", "gate-e", 2)]


def _waiting_on_locks(engine: Engine) -> int:
    with engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return int(connection.scalar(query) or 0)
