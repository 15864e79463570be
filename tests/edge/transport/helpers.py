"""Helpers for the gate transport tests: keys, a test subscriber, polling, central's messages."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.comms.config import MqttConfig, OutboxConfig, TlsConfig, TransportConfig
from edge.contract import GalleryEntry, credential_hash, seal, sign_message

REPO = Path(__file__).resolve().parents[3]
HELPER_COMMAND = [sys.executable, "-m", "tests.edge.transport.publish_stream"]
CENTRAL_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(40, 72)))
DEVICE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(80, 112)))
GALLERY_KEY = bytes(range(100, 132))
AT_REST_KEY = bytes(range(150, 182))
COMPOUND = "compound-1"
DIMENSION = 128


def wait_until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Poll ``predicate`` until true; AssertionError on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout_s} s")


class Subscriber:
    """A QoS 1 MQTT subscriber collecting messages; persistent session when ``client_id`` given."""

    def __init__(
        self, port: int, topic: str, client_id: str = "", tls: TlsConfig | None = None
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5
        )
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.ready = threading.Event()
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.reconnect_delay_set(1, 2)
        if tls is not None:
            self.client.tls_set(
                ca_certs=str(tls.ca_file), certfile=str(tls.cert_file), keyfile=str(tls.key_file)
            )
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600 if client_id else 0
        self.client.connect("127.0.0.1", port, clean_start=not client_id, properties=properties)
        self.client.loop_start()
        assert self.ready.wait(10), f"no SUBACK for {topic}"

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def payloads(self, topic_part: str = "") -> list[dict[str, Any]]:
        """Received JSON messages whose topic contains ``topic_part``."""
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if topic_part in t]

    def event_ids(self) -> list[str]:
        """Event ids of received events (not statuses), with duplicates."""
        return [m["event_id"] for m in self.payloads("/events/")]

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def transport_config(
    tmp_path: Path, port: int, mqtt: dict[str, Any] | None = None, **outbox: Any
) -> TransportConfig:
    """Fast-reconnecting transport to 127.0.0.1:``port`` (``mqtt``: more MQTT settings) with
    its outbox in ``tmp_path``."""
    fast = {"reconnect_min_s": 0.1, "reconnect_max_s": 0.5, "ack_timeout_s": 3.0}
    return TransportConfig(
        mqtt=MqttConfig(port=port, **(fast | (mqtt or {}))),
        outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3", **outbox),
    )


def unit_vectors(count: int, seed: int) -> np.ndarray:
    """``count`` random unit float32 vectors of the test dimension."""
    block = np.random.default_rng(seed).standard_normal((count, DIMENSION)).astype(np.float32)
    unit: np.ndarray = block / np.linalg.norm(block, axis=1, keepdims=True)
    return unit


def entry(
    person_id: str,
    templates: np.ndarray,
    key: bytes = GALLERY_KEY,
    **fields: Any,
) -> dict[str, Any]:
    """A gallery entry as central sends it: templates sealed, card/PIN hashed."""
    cards = fields.pop("cards", [])
    pins = fields.pop("pins", [])
    sealed = [seal(key, t.astype("<f4").tobytes(), person_id.encode()) for t in templates]
    made = GalleryEntry(
        person_id=person_id,
        person_kind=fields.pop("person_kind", "resident"),
        templates=sealed,
        card_hashes=[credential_hash(GALLERY_KEY, "card", c) for c in cards],
        pin_hashes=[credential_hash(GALLERY_KEY, "pin", p) for p in pins],
        **fields,
    )
    return made.model_dump(mode="json")


def signed(body: dict[str, Any], key: Ed25519PrivateKey = CENTRAL_KEY) -> bytes:
    """``body`` as central would publish it, signed."""
    return json.dumps(sign_message(body, key)).encode()
