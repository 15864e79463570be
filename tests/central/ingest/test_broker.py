"""The generated Mosquitto policy on a real broker: no anonymous clients, devices confined to
their own topics, and no QoS 1 event lost while central's worker falls behind or is away."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.broker.mosquitto import BrokerTls, render_mosquitto_conf
from central.db.events_models import Event
from central.ingest.config import IngestConfig
from central.ingest.mqtt import BrokerTarget, MqttPublisher
from central.ingest.pipeline import IngestPipeline
from central.ingest.validate import Incoming
from central.ingest.worker import IngestWorker
from central.registry.queries import device_info
from edge.contract import AccessDecision, Envelope, event_topic, parse_message
from tests.central.ingest.helpers import World
from tests.central.ingest.mqtt_helpers import (
    RUN_AS_ROOT,
    broker_config,
    central_target,
    connect,
    open_broker,
    publish_all,
    secured_broker,
    subscribe,
    wait_until,
    write_auth_files,
)
from tests.central.ingest.tls_helpers import write_tls_files
from tests.support.services import PrivateMosquitto, free_port, wait_for_port

PUBLISHERS = ("gate-e", "gate-w", "outlet-d", "gate-e")
PER_PUBLISHER = 2000


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Broker tests run on SQLite only: the broker, not the database, is under test."""
    return f"sqlite:///{tmp_path / 'central.db'}"


def _decision(gate: str) -> AccessDecision:
    return AccessDecision(gate_id=gate, decision="denied", reason="no_match", method="face")


def _stored_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return [str(i) for i in session.scalars(select(Event.event_id))]


def test_tls_listener_admits_central_and_refuses_plain_tcp(
    world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    ca_file, cert_file, key_file = write_tls_files(tmp_path)
    port = free_port()
    config = broker_config(tmp_path).model_copy(
        update={
            "port": port,
            "bind_address": "127.0.0.1",
            "tls": BrokerTls(ca_file=ca_file, cert_file=cert_file, key_file=key_file),
            "persistence_location": tmp_path,
            "log_dest": f"file {tmp_path}/mosquitto.log",
        }
    )
    write_auth_files(config, sessions)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(render_mosquitto_conf(config) + RUN_AS_ROOT)
    broker = subprocess.Popen(["mosquitto", "-c", str(conf)])
    try:
        wait_for_port(port)
        plain, plain_code = connect(port, "central", "plain-probe", wait_s=2)
        plain.loop_stop()
        target = central_target(port, "central-tls")
        secure = BrokerTarget(**{**vars(target), "tls": True, "ca_file": ca_file})
        publisher = MqttPublisher(secure, "central-tls")
        publisher.publish("anju/v1/site/c1/gallery", b"{}", retain=False)
        publisher.close()
    finally:
        broker.terminate()
        broker.wait(10)
    assert plain_code == -1, "a plain TCP client must get no CONNACK from the TLS listener"


def test_anonymous_and_wrong_user_refused(
    world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with secured_broker(tmp_path, sessions) as broker:
        codes = {}
        for username in (None, "nobody", "gate-e", "central"):
            client, codes[username] = connect(broker.port, username, f"probe-{username}")
            client.disconnect()
            client.loop_stop()
    assert codes[None] >= 0x80 and codes["nobody"] >= 0x80
    assert codes["gate-e"] == 0 and codes["central"] == 0


def test_device_cannot_publish_under_another_device(
    world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    received: list[str] = []
    arrived = threading.Event()

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received.append(message.topic)
        arrived.set()

    with secured_broker(tmp_path, sessions) as broker:
        watcher, _ = connect(broker.port, "central", "watcher")
        watcher.on_message = on_message
        subscribe(watcher, "anju/v1/dev/+/events/#")
        forged = world.message("gate-w", _decision("west"))
        own = world.message("gate-e", _decision("east"))
        publish_all(broker.port, "gate-e", "gate-e", [forged, own])
        assert arrived.wait(10)
        watcher.loop_stop()
    assert received == [event_topic("gate-e", "access.decision")]


class Throttle:
    """An after-commit hook that slows the consumer while ``active``."""

    def __init__(self) -> None:
        self.active = True

    def __call__(self, events: list[Envelope]) -> None:
        if self.active:
            time.sleep(0.05)


def _publish_concurrently(port: int, batches: Sequence[Sequence[Incoming]], secured: bool) -> None:
    threads = [
        threading.Thread(
            target=publish_all, args=(port, PUBLISHERS[i] if secured else None, f"pub-{i}", batch)
        )
        for i, batch in enumerate(batches)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


@pytest.fixture
def batches(world: World) -> list[list[Incoming]]:
    """Four publishers' worth of signed events."""
    return [[world.message(d, _decision("east")) for _ in range(PER_PUBLISHER)] for d in PUBLISHERS]


def _event_ids(batches: Sequence[Sequence[Incoming]]) -> set[str]:
    return {str(parse_message(m.data)[0].event_id) for batch in batches for m in batch}


def test_slow_consumer_loses_nothing_with_generated_config(
    world: World, sessions: sessionmaker[Session], tmp_path: Path, batches: list[list[Incoming]]
) -> None:
    throttle = Throttle()
    pipeline = IngestPipeline(sessions, device_info, [throttle])
    with secured_broker(tmp_path, sessions) as broker:
        worker = IngestWorker(
            central_target(broker.port), pipeline, IngestConfig(batch_max_messages=50)
        )
        worker.start()
        assert worker.subscribed.wait(10)
        _publish_concurrently(broker.port, batches, secured=True)
        throttle.active = False
        wait_until(lambda: len(_stored_ids(sessions)) >= 4 * PER_PUBLISHER, 120, "all stored")
        worker.stop()
    stored = _stored_ids(sessions)
    assert len(stored) == len(set(stored)) == 4 * PER_PUBLISHER
    assert set(stored) == _event_ids(batches)


def _broker(
    kind: str, folder: Path, sessions: sessionmaker[Session]
) -> AbstractContextManager[PrivateMosquitto]:
    return secured_broker(folder, sessions) if kind == "generated" else open_broker(folder)


@pytest.mark.parametrize(("kind", "loses"), [("generated", False), ("mosquitto_default", True)])
def test_absent_consumer_session_keeps_every_event(
    kind: str,
    loses: bool,
    world: World,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    batches: list[list[Incoming]],
) -> None:
    secured = kind == "generated"
    pipeline = IngestPipeline(sessions, device_info)
    with _broker(kind, tmp_path, sessions) as broker:
        target = central_target(broker.port, secured=secured)
        first = IngestWorker(target, pipeline, IngestConfig())
        first.start()
        assert first.subscribed.wait(10)
        first.stop()
        _publish_concurrently(broker.port, batches, secured)
        second = IngestWorker(target, pipeline, IngestConfig())
        second.start()
        assert second.subscribed.wait(10)
        marker = world.message("gate-w", _decision("west"))
        publish_all(broker.port, "gate-w" if secured else None, "marker", [marker])
        marker_id = str(parse_message(marker.data)[0].event_id)
        wait_until(lambda: marker_id in _stored_ids(sessions), 120, "the marker event")
        second.stop()
    stored = set(_stored_ids(sessions)) - {marker_id}
    assert stored <= _event_ids(batches)
    assert (len(stored) < 4 * PER_PUBLISHER) == loses, f"{len(stored)} of {4 * PER_PUBLISHER}"
