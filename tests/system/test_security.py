"""Issue #7's security claims, end to end on real processes: Mosquitto running the configuration
``anju central broker-config`` renders (central's password and ACL files), ``anju central serve``
ingesting, and a gate node process:

- anonymous clients, unknown users, wrong passwords and deactivated devices are refused;
- a device cannot publish under another device's topic: the broker refuses it, so it never
  reaches ingest (nothing stored, nothing even rejected);
- forged and tampered signatures are rejected, counted in /metrics and in the rejection table
  under ``bad_signature``;
- nothing a gate publishes during a real run (face match, heartbeats, status, camera status,
  gallery applied) can carry a face image or template.
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import signal
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from central.db.base import utcnow
from central.db.events_models import Event, IngestRejection
from edge.contract import AccessDecision, Envelope, event_topic, parse_message
from tests.central.ingest.helpers import password_of
from tests.central.ingest.mqtt_helpers import CENTRAL_USER, Listener, connect, wait_until
from tests.edge import videogen
from tests.edge.gate.support import Keys, gate_config, place_video
from tests.edge.videogen import FaceCut
from tests.support.payload_scan import find_leaks
from tests.system.stack import ANJU, System

DENIED = AccessDecision(gate_id="west", decision="denied", reason="no_match", method="card")
NOT_AUTHORIZED = 135
SUCCESS = 0
GATE = "gate-e"
GATE_KINDS = {"access.decision", "device.heartbeat", "device.status", "camera.status"}


def connack(
    port: int, username: str | None, password: str | None, protocol: MQTTProtocolVersion
) -> int:
    """The CONNACK reason code the broker answers a login with (0: accepted; -1: none)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex, protocol=protocol)
    if username is not None:
        client.username_pw_set(username, password)
    codes: queue.Queue[int] = queue.Queue()
    client.on_connect = lambda c, u, flags, rc, props: codes.put(rc.value)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        return codes.get(timeout=10)
    except queue.Empty:
        return -1
    finally:
        client.disconnect()
        client.loop_stop()


def publish_as(port: int, device_id: str, messages: list[tuple[str, bytes]]) -> list[int]:
    """Publish QoS 1 as the device (its own account and client id); each PUBACK's reason code."""
    client, code = connect(port, device_id, device_id)
    assert code == SUCCESS
    acked: dict[int, int] = {}
    done = threading.Condition()

    def on_publish(c: mqtt.Client, u: Any, mid: int, rc: Any, props: Any) -> None:
        with done:
            acked[mid] = rc.value
            done.notify_all()

    client.on_publish = on_publish
    mids = [client.publish(topic, data, qos=1).mid for topic, data in messages]
    with done:
        assert done.wait_for(lambda: set(mids) <= set(acked), 10), "PUBACKs missing"
    client.disconnect()
    client.loop_stop()
    return [acked[mid] for mid in mids]


def envelope(system: System, device_id: str) -> Envelope:
    """A new event of ``device_id`` dated now."""
    site_id = system.world.sites[device_id]
    return Envelope(site_id=site_id, device_id=device_id, occurred_at=utcnow(), payload=DENIED)


def signed(system: System, event: Envelope, key: Ed25519PrivateKey | None = None) -> bytes:
    """``event`` signed by ``key`` (default: its own device's key)."""
    return event.signed_json(key or system.world.keys[event.device_id])


def stored(system: System, event: Envelope) -> bool:
    """Whether central stored the event."""
    with system.sessions() as session:
        return session.get(Event, event.event_id) is not None


def rejected_total(system: System, reason: str | None = None) -> float:
    """``anju_ingest_rejected_total`` on central's /metrics (one reason, or all of them)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(system.metrics())
        for sample in family.samples
        if sample.name == "anju_ingest_rejected_total"
        and (reason is None or sample.labels.get("reason") == reason)
    )


def rejections(system: System, reason: str, topic: str) -> int:
    """Rows of the rejection table with ``reason`` for messages on ``topic``."""
    with system.sessions() as session:
        rows = session.scalars(
            select(IngestRejection).where(
                IngestRejection.reason == reason, IngestRejection.topic == topic
            )
        )
        return len(rows.all())


def broker_log(system: System, verb: str, client_id: str) -> list[str]:
    """Topics of the PUBLISH packets the broker logged as ``verb`` (Received, Denied)."""
    pattern = re.compile(rf"{verb} PUBLISH from {re.escape(client_id)} \(.*?'([^']*)'")
    return pattern.findall(system.broker_log.read_text(encoding="utf-8", errors="replace"))


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311], ids=["mqtt5", "mqtt311"])
def test_only_registered_accounts_may_connect(
    system: System, protocol: MQTTProtocolVersion
) -> None:
    port = system.mqtt_port
    assert connack(port, None, None, protocol) != SUCCESS, "anonymous client admitted"
    assert connack(port, "nobody", "guess", protocol) != SUCCESS, "unknown user admitted"
    assert connack(port, GATE, "wrong-password", protocol) != SUCCESS, "wrong password admitted"
    retired = connack(port, "gate-retired", password_of("gate-retired"), protocol)
    assert retired != SUCCESS, "a deactivated device admitted"
    assert connack(port, GATE, password_of(GATE), protocol) == SUCCESS
    assert connack(port, CENTRAL_USER, password_of(CENTRAL_USER), protocol) == SUCCESS


def test_device_cannot_publish_under_another_devices_topic(system: System) -> None:
    before = rejected_total(system)
    claims_other = envelope(system, GATE)  # claims to be gate-e, signed by gate-w
    own = envelope(system, "gate-w")
    marker = envelope(system, "gate-w")
    codes = publish_as(
        system.mqtt_port,
        "gate-w",
        [
            (
                event_topic(GATE, own.kind),
                signed(system, claims_other, system.world.keys["gate-w"]),
            ),
            (event_topic(GATE, own.kind), signed(system, own)),
            (event_topic("gate-w", marker.kind), signed(system, marker)),
        ],
    )
    assert codes == [NOT_AUTHORIZED, NOT_AUTHORIZED, SUCCESS]
    wait_until(lambda: stored(system, marker), 30, "the marker event")
    assert not stored(system, claims_other) and not stored(system, own)
    assert rejected_total(system) == before, "the refused messages reached ingest"
    assert rejections(system, "topic_mismatch", event_topic(GATE, own.kind)) == 0
    assert broker_log(system, "Denied", "gate-w") == [event_topic(GATE, own.kind)] * 2


def test_forged_signatures_rejected_and_counted_by_reason(system: System) -> None:
    topic = event_topic("gate-w", DENIED.kind)
    metric_before = rejected_total(system, "bad_signature")
    rows_before = rejections(system, "bad_signature", topic)
    forged = envelope(system, "gate-w")
    tampered = envelope(system, "gate-w")
    altered = json.loads(signed(system, tampered))
    altered["payload"]["decision"] = "granted"
    marker = envelope(system, "gate-w")
    messages = [
        (topic, signed(system, forged, Ed25519PrivateKey.generate())),
        (topic, json.dumps(altered).encode()),
        (topic, signed(system, marker)),
    ]
    assert publish_as(system.mqtt_port, "gate-w", messages) == [SUCCESS] * 3
    wait_until(lambda: stored(system, marker), 30, "the marker event")
    assert not stored(system, forged) and not stored(system, tampered)
    assert rejected_total(system, "bad_signature") == metric_before + 2
    assert rejections(system, "bad_signature", topic) == rows_before + 2


class Spy(Listener):
    """Central's account reading everything the gate may publish (its whole ``dev/<id>/#``)."""

    def drain(self) -> list[mqtt.MQTTMessage]:
        """Every message received so far."""
        received = []
        while not self.messages.empty():
            received.append(self.messages.get_nowait())
        return received


def start_gate(system: System, folder: Path, video: Path) -> subprocess.Popen[bytes]:
    """``anju edge gate`` as gate-e of the world, with its provisioned keys and account."""
    keys = Keys(
        central=system.central_key,
        device=system.world.keys[GATE],
        gallery=system.gallery_key,
        at_rest=secrets.token_bytes(32),
        token=secrets.token_hex(32),
    )
    camera = {"camera_id": "cam-east", "gate_id": "east", "source": str(video), "realtime": True}
    camera |= {"reconnect_min_s": 0.05, "reconnect_max_s": 0.2}
    config = gate_config(folder, keys, [camera])
    config["device"] |= {"device_id": GATE, "site_id": system.world.compound_id}
    config["device"]["gate_ids"] = ["east"]
    password_file = folder / "mqtt.password"
    password_file.write_text(password_of(GATE), encoding="utf-8")
    config["transport"]["mqtt"] |= {
        "port": system.mqtt_port,
        "username": GATE,
        "password_file": str(password_file),
    }
    path = folder / "gate.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    log = (folder / "gate.log").open("wb")
    command = [*ANJU, "edge", "gate", "--config", str(path)]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def kinds_seen(messages: list[mqtt.MQTTMessage]) -> dict[str, list[Any]]:
    """Payloads of the gate's messages by event kind."""
    seen: dict[str, list[Any]] = {}
    for message in messages:
        event, _ = parse_message(bytes(message.payload))
        seen.setdefault(event.kind, []).append(event.payload)
    return seen


def face_granted(decision: Any) -> bool:
    """An access decision that opened the gate on a face match."""
    return bool(decision.decision == "granted" and decision.method == "face")


def test_no_face_image_or_template_leaves_a_gate(
    system: System, face_cuts: list[FaceCut], tmp_path: Path
) -> None:
    spy = Spy(system.mqtt_port, f"anju/v1/dev/{GATE}/#", CENTRAL_USER)
    received: list[mqtt.MQTTMessage] = []

    def saw(kind: str, check: Any = lambda payload: True) -> bool:
        received.extend(spy.drain())
        return any(check(payload) for payload in kinds_seen(received).get(kind, []))

    video = tmp_path / "cam-east.avi"
    gate = start_gate(system, tmp_path, video)
    try:
        wait_until(lambda: saw("gallery.applied") or gate.poll() is not None, 120, "gallery")
        assert gate.poll() is None, (tmp_path / "gate.log").read_text()
        frames = list(videogen.walk_up(face_cuts[0], 20)) + list(videogen.empty_scene(25))
        place_video(frames, video)
        wait_until(lambda: saw("access.decision", face_granted), 120, "a face match")
        wait_until(lambda: saw("camera.status") and saw("device.heartbeat"), 30, "health")
    finally:
        gate.send_signal(signal.SIGTERM)
        assert gate.wait(30) == 0
    wait_until(lambda: saw("device.status", lambda s: s.state == "offline"), 10, "offline")
    spy.close()
    assert set(kinds_seen(received)) >= GATE_KINDS
    leaks = {m.topic: find_leaks(bytes(m.payload)) for m in received}
    assert not {topic: why for topic, why in leaks.items() if why}, leaks
    assert set(broker_log(system, "Received", GATE)) == {m.topic for m in received}
    assert broker_log(system, "Denied", GATE) == []


PLANTED = {
    "jpeg": b'{"snapshot": "\xff\xd8\xff\xe0"}',
    "jpeg_base64": b'{"snapshot": "/9j/4AAQSkZJRgABAQAAAQABAAD"}',
    "png_base64": b'{"thumb": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}',
    "template_floats": json.dumps({"t": [0.0123] * 128}).encode(),
    "template_in_string": json.dumps({"t": ",".join(["-0.5"] * 64)}).encode(),
    "template_base64": json.dumps({"t": "QUJD" * 200}).encode(),
    "binary": bytes(range(256)) * 2,
    "oversized": json.dumps({"note": "x " * 4000}).encode(),
}


@pytest.mark.parametrize("name", PLANTED)
def test_payload_scan_finds_planted_images_and_templates(name: str) -> None:
    assert find_leaks(PLANTED[name]), f"{name} not found"
