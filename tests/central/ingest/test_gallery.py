"""Gallery distribution: versions recorded with the change, signed deltas and the retained
snapshot on a real broker, verifiable with central's key, and lagging gates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from central.gallery.distribution import current_version, lagging_gates, record_gallery_change
from central.gallery.messages import TemplateFormat
from central.gallery.publisher import GalleryPublisher
from central.ingest.mqtt import BrokerTarget, MqttPublisher
from central.ingest.pipeline import IngestPipeline
from central.registry.queries import device_info, gallery_key
from edge.contract import (
    GalleryApplied,
    GalleryDelta,
    GallerySnapshot,
    command_topic,
    gallery_topic,
    unseal,
    verify_message,
)
from tests.central.ingest.helpers import World, enrol, withdraw
from tests.central.ingest.mqtt_helpers import Listener, open_broker
from tests.support.services import PrivateMosquitto

CENTRAL_KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    with open_broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def publisher(
    broker: PrivateMosquitto, sessions: sessionmaker[Session]
) -> Iterator[GalleryPublisher]:
    mqtt_publisher = MqttPublisher(BrokerTarget(port=broker.port), "central-gallery")
    yield GalleryPublisher(
        sessions, mqtt_publisher.publish, CENTRAL_KEY, TemplateFormat("anju-open", "fusion")
    )
    mqtt_publisher.close()


def _verified(payload: bytes | bytearray) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(payload)
    verify_message(message, CENTRAL_KEY.public_key())
    return message


def test_version_bumps_only_with_the_committed_change(
    world: World, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        assert record_gallery_change(session, "c1", ["res-1"], []) == 1
        session.rollback()
    with sessions() as session, session.begin():
        assert current_version(session, "c1") == 0
        assert record_gallery_change(session, "c1", ["res-1"], []) == 1
        assert record_gallery_change(session, "c1", [], ["res-1"]) == 2
    with sessions() as session:
        assert current_version(session, "c1") == 2


def test_change_reaches_a_gate_as_signed_delta_then_deletion(
    world: World,
    sessions: sessionmaker[Session],
    broker: PrivateMosquitto,
    publisher: GalleryPublisher,
) -> None:
    gate = Listener(broker.port, gallery_topic("c1"))
    vector = enrol(sessions, world.resident_id, "resident", seed=1)
    assert publisher.publish_pending() == 1
    delta = GalleryDelta.model_validate(_without_signature(_verified(gate.next().payload)))
    snapshot = GallerySnapshot.model_validate(_without_signature(_verified(gate.next().payload)))
    assert (delta.base_version, delta.version, snapshot.version) == (0, 1, 1)
    [entry] = delta.upserts
    with sessions() as session:
        key = gallery_key(session, "c1")
    opened = unseal(key, entry.templates[0], world.resident_id.encode())
    np.testing.assert_array_equal(np.frombuffer(opened, dtype="<f4"), vector)
    assert [e.person_id for e in snapshot.entries] == [world.resident_id]

    withdraw(sessions, world.resident_id)
    assert publisher.publish_pending() == 1
    deletion = GalleryDelta.model_validate(_without_signature(_verified(gate.next().payload)))
    assert (deletion.version, deletion.deletions, deletion.upserts) == (2, ["res-1"], [])
    assert publisher.publish_pending() == 0
    gate.close()

    late_gate = Listener(broker.port, gallery_topic("c1"))
    retained = late_gate.next()
    assert retained.retain
    late = GallerySnapshot.model_validate(_without_signature(_verified(retained.payload)))
    assert (late.version, late.entries) == (2, [])
    late_gate.close()


def test_forged_gallery_message_does_not_verify(
    world: World,
    sessions: sessionmaker[Session],
    broker: PrivateMosquitto,
    publisher: GalleryPublisher,
) -> None:
    gate = Listener(broker.port, gallery_topic("c1"))
    enrol(sessions, world.visitor_id, "visitor", seed=2)
    publisher.publish_pending()
    message = json.loads(gate.next().payload)
    message["deletions"] = ["res-1"]
    with pytest.raises(ValueError, match="does not verify"):
        verify_message(message, CENTRAL_KEY.public_key())
    gate.close()


def test_commit_wakes_the_publishing_thread(
    world: World,
    sessions: sessionmaker[Session],
    broker: PrivateMosquitto,
    publisher: GalleryPublisher,
) -> None:
    gate = Listener(broker.port, gallery_topic("c1"))
    publisher.watch_commits()
    publisher.start()
    try:
        enrol(sessions, world.resident_id, "resident", seed=3)
        first = _verified(gate.next().payload)
    finally:
        publisher.stop()
    assert (first["kind"], first["version"]) == ("gallery.delta", 1)
    gate.close()


def _without_signature(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "signature"}


def test_lagging_gates_listed_and_asked_to_resync(
    world: World,
    sessions: sessionmaker[Session],
    broker: PrivateMosquitto,
    publisher: GalleryPublisher,
) -> None:
    with sessions() as session, session.begin():
        record_gallery_change(session, "c1", ["res-1"], [])
        record_gallery_change(session, "c1", ["vis-1"], [])
    pipeline = IngestPipeline(sessions, device_info)
    pipeline.process(
        [
            world.message("gate-e", GalleryApplied(compound_id="c1", version=2)),
            world.message("gate-w", GalleryApplied(compound_id="c1", version=1)),
        ]
    )
    with sessions() as session:
        lagging = lagging_gates(session, "c1")
    assert [(lag.device_id, lag.applied_version, lag.current_version) for lag in lagging] == [
        ("gate-w", 1, 2)
    ]
    commands = Listener(broker.port, "anju/v1/dev/+/cmd/gallery_resync")
    assert publisher.request_resync("c1") == ["gate-w"]
    command = commands.next()
    assert command.topic == command_topic("gate-w", "gallery_resync")
    assert _verified(command.payload)["kind"] == "command.gallery_resync"
    commands.close()
