"""Broker helpers for tests: a private Mosquitto with the generated policy and central's auth
files, clients that wait for CONNACK, bulk QoS 1 publishing and polling with a timeout."""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from central.broker.mosquitto import BrokerConfig, policy_block
from central.devices.mosquitto_auth import (
    MqttAccount,
    mosquitto_password_hash,
    write_mosquitto_auth,
)
from central.ingest.mqtt import BrokerTarget
from central.ingest.validate import Incoming
from tests.central.ingest.helpers import password_of
from tests.support.services import PrivateMosquitto, private_mosquitto

CENTRAL_USER = "central"
RUN_AS_ROOT = "user root\n" if os.geteuid() == 0 else ""
"""As root, Mosquitto would switch to user ``mosquitto``, who cannot read pytest's folders."""


def broker_config(folder: Path) -> BrokerConfig:
    """The generated configuration, with auth files in ``folder``."""
    return BrokerConfig(password_file=folder / "passwd", acl_file=folder / "acl")


def write_auth_files(config: BrokerConfig, sessions: sessionmaker[Session]) -> None:
    """Central's password and ACL files for the registered devices and central itself."""
    central = MqttAccount(CENTRAL_USER, mosquitto_password_hash(password_of(CENTRAL_USER)))
    with sessions() as session:
        write_mosquitto_auth(session, config.password_file, config.acl_file, central)


@contextmanager
def secured_broker(folder: Path, sessions: sessionmaker[Session]) -> Iterator[PrivateMosquitto]:
    """A private Mosquitto with the generated policy and central's files for the registry."""
    config = broker_config(folder)
    write_auth_files(config, sessions)
    with private_mosquitto(folder, policy_block(config) + RUN_AS_ROOT) as broker:
        yield broker


@contextmanager
def open_broker(folder: Path) -> Iterator[PrivateMosquitto]:
    """A private Mosquitto with Mosquitto's defaults and anonymous clients."""
    with private_mosquitto(folder, "allow_anonymous true\n" + RUN_AS_ROOT) as broker:
        yield broker


def central_target(port: int, client_id: str = "central-1", secured: bool = True) -> BrokerTarget:
    """Where an ingest worker of the tests connects."""
    if not secured:
        return BrokerTarget(port=port, client_id=client_id)
    return BrokerTarget(
        port=port, client_id=client_id, username=CENTRAL_USER, password=password_of(CENTRAL_USER)
    )


def connect(
    port: int, username: str | None, client_id: str, wait_s: float = 10.0
) -> tuple[mqtt.Client, int]:
    """A started client and its CONNACK reason code (0: accepted; -1: no CONNACK in time)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if username is not None:
        client.username_pw_set(username, password_of(username))
    answered = threading.Event()
    codes: list[int] = []

    def on_connect(c: mqtt.Client, u: Any, flags: Any, rc: Any, props: Any) -> None:
        codes.append(rc.value)
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client, codes[0] if answered.wait(wait_s) else -1


def publish_all(
    port: int, username: str | None, client_id: str, messages: Sequence[Incoming]
) -> None:
    """Publish every message with QoS 1 and wait until the broker acknowledged each."""
    client, code = connect(port, username, client_id)
    assert code == 0
    infos = [client.publish(m.topic, m.data, qos=1) for m in messages]
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


def wait_until(predicate: Callable[[], bool], timeout_s: float = 60.0, what: str = "") -> None:
    """Poll ``predicate`` until true; AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def subscribe(client: mqtt.Client, topic: str) -> None:
    """Subscribe with QoS 1 and wait for the SUBACK granting it."""
    granted = threading.Event()

    def on_subscribe(c: mqtt.Client, u: Any, mid: int, codes: list[Any], props: Any) -> None:
        assert not codes[0].is_failure, f"subscription to {topic} refused: {codes[0]}"
        granted.set()

    client.on_subscribe = on_subscribe
    client.subscribe(topic, qos=1)
    assert granted.wait(10), f"no SUBACK for {topic}"


class Listener:
    """A client collecting every message on its subscriptions, in arrival order."""

    def __init__(self, port: int, topic: str, username: str | None = None) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client, code = connect(port, username, f"listener-{uuid.uuid4().hex[:8]}")
        assert code == 0
        self.client.on_message = lambda c, u, message: self.messages.put(message)
        subscribe(self.client, topic)

    def next(self, timeout_s: float = 10.0) -> mqtt.MQTTMessage:
        """The next message; AssertionError if none arrives in time."""
        try:
            return self.messages.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError("no message arrived") from None

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
