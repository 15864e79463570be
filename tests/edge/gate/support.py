"""Helpers for the gate tests: keys, configurations, central's messages, an MQTT listener."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import paho.mqtt.client as paho
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from edge.contract import (
    Envelope,
    GalleryDelta,
    GalleryEntry,
    GallerySnapshot,
    event_topic,
    parse_message,
    private_key_text,
    public_key_text,
    seal,
    sign_message,
    status_topic,
    verify_envelope,
)
from edge.contract.signing import b64url
from tests.edge import videogen
from tests.support.payload_scan import find_leaks
from tests.support.services import require_service


@dataclass(frozen=True)
class Person:
    """A stand-in with GalleryPerson's fields (the policy reads only these)."""

    person_id: str
    person_kind: Literal["resident", "visitor"] = "resident"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    gate_ids: tuple[str, ...] = ()


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll ``condition`` until it holds; AssertionError on timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@dataclass(frozen=True)
class Keys:
    """Central's and the device's keys, and the compound's gallery key."""

    central: Ed25519PrivateKey
    device: Ed25519PrivateKey
    gallery: bytes
    at_rest: bytes
    token: str


def new_keys() -> Keys:
    """Fresh keys for one test."""
    return Keys(
        Ed25519PrivateKey.generate(),
        Ed25519PrivateKey.generate(),
        np.random.default_rng().bytes(32),
        np.random.default_rng().bytes(32),
        uuid.uuid4().hex + uuid.uuid4().hex,
    )


def write_key_files(keys: Keys, folder: Path) -> dict[str, Path]:
    """The key files a gate configuration names."""
    files = {
        "device": (folder / "device.key", private_key_text(keys.device)),
        "gallery": (folder / "gallery.key", b64url(keys.gallery)),
        "at_rest": (folder / "at_rest.key", b64url(keys.at_rest)),
        "token": (folder / "evidence.token", keys.token),
    }
    for path, text in files.values():
        path.write_text(text + "\n", encoding="ascii")
    return {name: path for name, (path, _) in files.items()}


def gate_config(folder: Path, keys: Keys, cameras: list[dict[str, Any]]) -> dict[str, Any]:
    """A gate configuration (as YAML would give it) on the machine's Mosquitto."""
    files = write_key_files(keys, folder)
    suffix = uuid.uuid4().hex[:8]
    return {
        "device": {
            "device_id": f"gate-{suffix}",
            "site_id": f"site-{suffix}",
            "key_file": str(files["device"]),
            "gate_ids": ["north"],
        },
        "cameras": cameras,
        "liveness": {"required": "never"},
        "transport": {
            "mqtt": {"host": "127.0.0.1", "port": 1883, "reconnect_max_s": 1.0},
            "outbox": {"path": str(folder / "outbox.sqlite3")},
        },
        "gallery": {
            "path": str(folder / "gallery.sqlite3"),
            "at_rest_key_file": str(files["at_rest"]),
            "gallery_key_file": str(files["gallery"]),
            "central_public_key": public_key_text(keys.central.public_key()),
        },
        "credentials": {"readers": []},
        "relay": {"driver": "log", "pulse_s": 0.5},
        "evidence": {
            "folder": str(folder / "evidence"),
            "server": {"port": 0, "token_file": str(files["token"])},
        },
        "heartbeat_interval_s": 0.5,
    }


def gallery_entry(keys: Keys, person_id: str, template: np.ndarray, **fields: Any) -> GalleryEntry:
    """One person with one template sealed with the gallery key."""
    sealed = seal(keys.gallery, template.astype("<f4").tobytes(), person_id.encode("utf-8"))
    return GalleryEntry(
        person_id=person_id, person_kind=fields.pop("person_kind", "resident"),
        templates=[sealed], **fields,
    )  # fmt: skip


def signed(keys: Keys, message: GallerySnapshot | GalleryDelta) -> bytes:
    """Central's wire form of a gallery message."""
    return json.dumps(sign_message(message.model_dump(mode="json"), keys.central)).encode()


class Listener:
    """A central stand-in on the machine's Mosquitto: collects a device's events, publishes."""

    def __init__(self, device_id: str, device_public: Any) -> None:
        require_service("Mosquitto", 1883)
        self.envelopes: list[Envelope] = []
        self.raw: list[bytes] = []
        self._device_public = device_public
        self._lock = threading.Lock()
        ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.connect("127.0.0.1", 1883)
        self.client.subscribe([(event_topic(device_id, "#"), 1), (status_topic(device_id), 1)])
        self.client.loop_start()
        assert ready.wait(10), "no SUBACK"

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        data = bytes(message.payload)
        envelope, raw = parse_message(data)
        verify_envelope(raw, self._device_public)
        with self._lock:
            self.raw.append(data)
            self.envelopes.append(envelope)

    def events(self, kind: str) -> list[Any]:
        """Payloads of the received events of ``kind``."""
        with self._lock:
            return [e.payload for e in self.envelopes if e.kind == kind]

    def wait_for(self, kind: str, count: int = 1, timeout_s: float = 20.0) -> list[Any]:
        """The first ``count`` payloads of ``kind``, waiting for them."""
        wait_until(lambda: len(self.events(kind)) >= count, timeout_s)
        return self.events(kind)

    def publish(self, topic: str, data: bytes) -> None:
        """Publish at QoS 1 and wait for the broker's ack."""
        self.client.publish(topic, data, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class RecordingRelay:
    """A relay driver that remembers its pulses (the gate's barrier, as the test sees it)."""

    def __init__(self) -> None:
        self.pulses: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def pulse(self, gate_id: str, pulse_s: float) -> None:
        with self._lock:
            self.pulses.append((gate_id, pulse_s))


def place_video(frames: Any, path: Path) -> None:
    """Write a video next to ``path`` and move it into place at once (cameras poll the path)."""
    partial = path.with_name(path.stem + ".part.avi")
    videogen.write_video(frames, partial)
    partial.replace(path)


def scan_payloads(raw_messages: list[bytes]) -> None:
    """Fail if any message could carry an image or a template."""
    leaks = {index: found for index, data in enumerate(raw_messages) if (found := find_leaks(data))}
    assert not leaks, f"messages that could carry a face: {leaks}"
