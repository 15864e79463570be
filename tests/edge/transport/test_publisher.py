"""The event publisher against the real Mosquitto: signed events, status, will, commands."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from edge.comms.config import MqttConfig, OutboxConfig, TransportConfig
from edge.comms.mqtt import NO_MATCHING_SUBSCRIBERS, puback_outcome
from edge.contract import (
    Heartbeat,
    OutboxDropped,
    command_topic,
    gallery_topic,
    parse_message,
    status_topic,
    verify_envelope,
)
from edge.events.publisher import EventPublisher
from tests.edge.transport.helpers import (
    COMPOUND,
    DEVICE_KEY,
    HELPER_COMMAND,
    REPO,
    Subscriber,
    wait_until,
)
from tests.support.services import PrivateMosquitto, private_mosquitto

Maker = Callable[..., EventPublisher]


def test_events_arrive_signed_and_leave_the_outbox(
    mosquitto: int, device_id: str, make_publisher: Maker, subscribers: list[Subscriber]
) -> None:
    subscriber = Subscriber(mosquitto, f"anju/v1/dev/{device_id}/#")
    subscribers.append(subscriber)
    publisher = make_publisher(mosquitto)
    sent = [publisher.publish(Heartbeat(uptime_s=i, outbox_depth=0)) for i in range(20)]
    wait_until(lambda: len(subscriber.event_ids()) >= 20)
    assert subscriber.event_ids() == [str(e.event_id) for e in sent], "in order"
    wait_until(lambda: publisher.outbox_depth == 0)
    for _, payload, _ in subscriber.messages:
        envelope, raw = parse_message(payload)
        verify_envelope(raw, DEVICE_KEY.public_key())
        assert envelope.device_id == device_id


def test_retained_online_status_on_connect(
    mosquitto: int, device_id: str, make_publisher: Maker, subscribers: list[Subscriber]
) -> None:
    publisher = make_publisher(mosquitto)
    wait_until(lambda: publisher.connected)
    late = Subscriber(mosquitto, status_topic(device_id))
    subscribers.append(late)
    wait_until(lambda: bool(late.messages))
    _topic, payload, retained = late.messages[0]
    assert retained
    assert json.loads(payload)["payload"]["state"] == "online"


def test_last_will_when_the_node_dies(
    mosquitto: int, device_id: str, tmp_path: Path, subscribers: list[Subscriber]
) -> None:
    subscriber = Subscriber(mosquitto, status_topic(device_id))
    subscribers.append(subscriber)
    node = subprocess.Popen(
        [*HELPER_COMMAND, "stream", str(tmp_path / "o.db"), str(mosquitto), device_id, "1", "50"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert node.stdout is not None
        assert node.stdout.readline().strip()
        wait_until(lambda: [m["payload"]["state"] for m in subscriber.payloads()] == ["online"])
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait()
    wait_until(lambda: len(subscriber.payloads()) == 2)
    offline = subscriber.payloads()[1]
    assert offline["payload"]["state"] == "offline"
    _envelope, raw = parse_message(json.dumps(offline).encode())
    verify_envelope(raw, DEVICE_KEY.public_key())


def _failing_handler(topic: str, payload: bytes) -> None:
    raise RuntimeError("a failing handler must not stop the others")


def test_commands_and_gallery_reach_the_handler(
    mosquitto: int, device_id: str, make_publisher: Maker, subscribers: list[Subscriber]
) -> None:
    publisher = make_publisher(mosquitto)
    received: list[tuple[str, bytes]] = []
    publisher.on_message(lambda topic, payload: received.append((topic, payload)))
    publisher.on_message(_failing_handler)
    central = Subscriber(mosquitto, status_topic(device_id))
    subscribers.append(central)
    # The node subscribes before its birth message, so once "online" is out it listens.
    wait_until(lambda: bool(central.payloads()))
    for topic in (command_topic(device_id, "open"), gallery_topic(COMPOUND)):
        central.client.publish(topic, b"{}", qos=1).wait_for_publish(5)
    central.client.publish(command_topic("other-gate", "open"), b"{}", qos=1)
    wait_until(lambda: len(received) >= 2)
    assert sorted(t for t, _ in received) == sorted(
        [command_topic(device_id, "open"), gallery_topic(COMPOUND)]
    )


def test_drops_while_offline_are_reported(
    tmp_path: Path, device_id: str, make_publisher: Maker, subscribers: list[Subscriber]
) -> None:
    broker = PrivateMosquitto(tmp_path / "broker")
    broker.start()
    central = Subscriber(broker.port, f"anju/v1/dev/{device_id}/events/#", "central-1")
    subscribers.append(central)
    broker.stop()
    publisher = make_publisher(broker.port, max_events=10)
    sent = [publisher.publish(Heartbeat(uptime_s=i, outbox_depth=0)) for i in range(15)]
    assert publisher.outbox_depth == 10
    broker.start()
    try:
        wait_until(lambda: publisher.outbox_depth == 0)
        wait_until(lambda: len(set(central.event_ids())) >= 11)
    finally:
        broker.stop()
    audits = {m["event_id"]: m["payload"] for m in central.payloads("/outbox.dropped")}
    assert list(audits.values()) == [
        OutboxDropped(
            dropped=5,
            policy="drop_oldest",
            first_event_id=str(sent[0].event_id),
            last_event_id=str(sent[4].event_id),
        ).model_dump(mode="json")
    ]
    assert set(central.event_ids()) - set(audits) == {str(e.event_id) for e in sent[5:]}
    assert publisher.dropped_total == 5


def _with_password(tmp_path: Path, port: int, password: str, device_id: str) -> EventPublisher:
    (tmp_path / f"{password}.pw").write_text(password + "\n")
    mqtt = MqttConfig(
        port=port, username="gate", password_file=tmp_path / f"{password}.pw", reconnect_min_s=0.1
    )
    outbox = OutboxConfig(path=tmp_path / f"{password}.sqlite3")
    publisher = EventPublisher(
        TransportConfig(mqtt=mqtt, outbox=outbox), DEVICE_KEY, COMPOUND, device_id
    )
    publisher.start()
    return publisher


def test_refused_login_stops_retrying(tmp_path: Path, device_id: str) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    passwords = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "gate", "right"], check=True)
    config = f"allow_anonymous false\npassword_file {passwords}\n"
    with private_mosquitto(folder, config) as broker:
        wrong = _with_password(tmp_path, broker.port, "wrong", device_id)
        right = _with_password(tmp_path, broker.port, "right", device_id + "-2")
        try:
            wait_until(lambda: wrong.failure is not None and right.connected)
            assert wrong.failure == "broker refused the connection: Not authorized"
            assert not wrong.connected
            assert right.failure is None
        finally:
            wrong.stop()
            right.stop()


@pytest.mark.parametrize(
    ("code", "delivered"),
    [(0, True), (NO_MATCHING_SUBSCRIBERS, False), (135, False), (128, False)],
)
def test_puback_no_matching_subscribers_is_not_delivered(code: int, delivered: bool) -> None:
    reason = ReasonCode(PacketTypes.PUBACK, identifier=code)  # type: ignore[no-untyped-call]
    assert (puback_outcome(reason) is None) is delivered
