"""Ingest pipeline on SQLite and PostgreSQL: stored once, every bad message counted by reason."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.events_models import DeviceGalleryState, DeviceHealth, Event, IngestRejection
from central.ingest.metrics import STAGES
from central.ingest.pipeline import IngestPipeline
from central.ingest.validate import Incoming
from central.registry.queries import device_info
from edge.contract import (
    AccessDecision,
    CameraStatus,
    DeviceStatus,
    Envelope,
    GalleryApplied,
    Heartbeat,
    command_topic,
    event_topic,
    parse_message,
)
from tests.central.ingest.helpers import NOW, World, count_rows

GRANT = AccessDecision(gate_id="east", decision="granted", reason="match", method="face")


@pytest.fixture
def pipeline(sessions: sessionmaker[Session]) -> IngestPipeline:
    return IngestPipeline(sessions, device_info)


def test_event_stored_once_across_and_within_batches(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session]
) -> None:
    message = world.message("gate-e", GRANT)
    first = pipeline.process([message, message])
    again = pipeline.process([message])
    assert (len(first.stored), first.duplicates) == (1, 1)
    assert (len(again.stored), again.duplicates) == (0, 1)
    with sessions() as session:
        row = session.scalars(select(Event)).one()
    assert (row.device_id, row.gate_id, row.decision, row.method) == (
        "gate-e",
        "east",
        "granted",
        "face",
    )
    assert row.occurred_at == NOW


def _forged(world: World) -> Incoming:
    envelope = Envelope(site_id="c1", device_id="gate-e", payload=GRANT)
    return Incoming(
        event_topic("gate-e", envelope.kind), envelope.signed_json(Ed25519PrivateKey.generate())
    )


def _tampered(world: World) -> Incoming:
    raw = json.loads(world.message("gate-e", GRANT).data)
    raw["payload"]["decision"] = "denied"
    return Incoming(event_topic("gate-e", "access.decision"), json.dumps(raw).encode())


def _unsigned(world: World) -> Incoming:
    raw = json.loads(world.message("gate-e", GRANT).data)
    del raw["signature"]
    return Incoming(event_topic("gate-e", "access.decision"), json.dumps(raw).encode())


def _lone_surrogate(world: World) -> Incoming:
    raw = json.loads(world.message("gate-e", GRANT).data)
    raw["payload"]["reason"] = "\ud800"  # no UTF-8 form: its signed bytes cannot exist
    return Incoming(event_topic("gate-e", "access.decision"), json.dumps(raw).encode())


def _on_other_topic(world: World) -> Incoming:
    genuine = world.message("gate-e", GRANT)
    return Incoming(event_topic("gate-w", "access.decision"), genuine.data)


def _wrong_kind_topic(world: World) -> Incoming:
    genuine = world.message("gate-e", GRANT)
    return Incoming(event_topic("gate-e", "device.heartbeat"), genuine.data)


BAD_MESSAGES: list[tuple[str, Callable[[World], Incoming]]] = [
    ("malformed_json", lambda w: Incoming(event_topic("gate-e", "access.decision"), b"{not json")),
    ("malformed_json", lambda w: Incoming(event_topic("gate-e", "access.decision"), b"\xff\xfe")),
    ("malformed_json", lambda w: Incoming(event_topic("gate-e", "access.decision"), b"[1, 2]")),
    ("schema", lambda w: Incoming(event_topic("gate-e", "access.decision"), b'{"payload": {}}')),
    ("too_large", lambda w: Incoming(event_topic("gate-e", "access.decision"), b" " * 70_000)),
    ("schema", _lone_surrogate),
    ("bad_signature", _forged),
    ("bad_signature", _tampered),
    ("bad_signature", _unsigned),
    ("topic_mismatch", _on_other_topic),
    ("topic_mismatch", _wrong_kind_topic),
    ("unknown_device", lambda w: w.message("gate-nobody", GRANT)),
    ("unknown_device", lambda w: w.message("gate-retired", GRANT)),
    ("site_mismatch", lambda w: w.message("gate-e", GRANT, site_id="c2")),
]


@pytest.mark.parametrize(("reason", "make"), BAD_MESSAGES)
def test_bad_message_rejected_and_counted(
    reason: str,
    make: Callable[[World], Incoming],
    world: World,
    pipeline: IngestPipeline,
    sessions: sessionmaker[Session],
) -> None:
    labels = {"reason": reason}
    before = REGISTRY.get_sample_value("anju_ingest_rejected_total", labels) or 0.0
    good = world.message("gate-e", GRANT)
    outcome = pipeline.process([make(world), good])
    assert [r.reason for r in outcome.rejected] == [reason]
    assert len(outcome.stored) == 1, "a bad message must not spoil its batch"
    assert REGISTRY.get_sample_value("anju_ingest_rejected_total", labels) == before + 1
    with sessions() as session:
        rejection = session.scalars(select(IngestRejection)).one()
    assert rejection.reason == reason


def test_central_commands_under_the_subscription_are_ignored(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session]
) -> None:
    outcome = pipeline.process([Incoming(command_topic("gate-e", "open"), b"{}")])
    assert outcome.ignored == 1
    assert (count_rows(sessions, Event), count_rows(sessions, IngestRejection)) == (0, 0)


def test_health_follows_status_heartbeat_and_camera(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    pipeline.process(
        [
            world.message("gate-e", DeviceStatus(state="online", software_version="1.2")),
            world.message(
                "gate-e", Heartbeat(uptime_s=5, outbox_depth=3), NOW + timedelta(seconds=5)
            ),
            world.message("gate-e", CameraStatus(camera_id="cam0", state="stalled")),
        ]
    )
    pipeline.process(
        [world.message("gate-e", DeviceStatus(state="offline"), NOW + timedelta(seconds=9))]
    )
    with sessions() as session:
        health = session.get(DeviceHealth, "gate-e")
    assert health is not None
    assert health.last_heartbeat == NOW + timedelta(seconds=5)
    assert (health.online, health.outbox_depth, health.software_version) == (False, 3, "1.2")
    assert health.camera_state == {"cam0": "stalled"}


def test_gallery_applied_keeps_newest_report(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    newer = world.message("gate-e", GalleryApplied(compound_id="c1", version=4), NOW)
    older = world.message(
        "gate-e", GalleryApplied(compound_id="c1", version=3), NOW - timedelta(minutes=1)
    )
    pipeline.process([newer])
    pipeline.process([older])
    with sessions() as session:
        state = session.get(DeviceGalleryState, "gate-e")
    assert state is not None and state.applied_version == 4


def test_after_commit_sees_only_new_events(world: World, sessions: sessionmaker[Session]) -> None:
    seen: list[uuid.UUID] = []
    pipeline = IngestPipeline(
        sessions, device_info, [lambda events: seen.extend(e.event_id for e in events)]
    )
    message = world.message("gate-e", GRANT)
    pipeline.process([message])
    pipeline.process([message])
    assert len(seen) == 1


def test_payload_stored_verbatim_with_its_id_and_times(
    world: World, pipeline: IngestPipeline, sessions: sessionmaker[Session]
) -> None:
    tricky = 'quote " backslash \\ literal \\u0000 newline \n 北门 😀'
    decision = GRANT.model_copy(update={"reason": tricky, "evidence_ids": ["a\tb", "c/d"]})
    message = world.message("gate-e", decision)
    envelope, raw = parse_message(message.data)
    pipeline.process([message])
    with sessions() as session:
        row = session.scalars(select(Event)).one()
    assert row.payload == raw["payload"]
    assert row.payload["reason"] == tricky
    assert (row.event_id, row.occurred_at) == (envelope.event_id, envelope.occurred_at)


def test_each_stage_of_a_batch_is_timed(world: World, pipeline: IngestPipeline) -> None:
    def batches_timed(stage: str) -> float:
        labels = {"stage": stage}
        return REGISTRY.get_sample_value("anju_ingest_stage_seconds_count", labels) or 0.0

    stages = [stage for stage in STAGES if stage != "ack"]
    before = {stage: batches_timed(stage) for stage in stages}
    pipeline.process([world.message("gate-e", GRANT), world.message("gate-w", GRANT)])
    assert {stage: batches_timed(stage) - before[stage] for stage in stages} == dict.fromkeys(
        stages, 1.0
    )
