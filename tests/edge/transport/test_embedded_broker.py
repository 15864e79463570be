"""Events through the demo's embedded broker (amqtt, MQTT 3.1.1, in memory), as the demo uses it.

The node's publisher and a persistent subscriber standing for central both speak 3.1.1 with a
user name (amqtt keeps no session for a client it marks anonymous). The broker keeps nothing
across a restart (README: the demo), so there the node's outbox is what carries the events.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from central.core.settings import CentralMqttConfig, CentralSettings
from central.ingest.mqtt import event_subscription
from edge.comms.config import MqttConfig
from edge.comms.mqtt import MqttClient
from edge.contract import Heartbeat
from edge.events.publisher import EventPublisher
from scripts.demo.broker import EMBEDDED_SCRIPT
from tests.edge.transport.helpers import wait_until
from tests.support.services import free_port, wait_for_port

Maker = Callable[..., EventPublisher]
EVENTS = 30


def _client(port: int, username: str, client_id: str) -> MqttClient:
    """A fast-reconnecting MQTT 3.1.1 client of the embedded broker, logged in as ``username``."""
    config = MqttConfig(
        port=port, protocol="3.1.1", username=username, reconnect_min_s=0.1, reconnect_max_s=0.5
    )
    return MqttClient(config, client_id)


class EmbeddedBroker:
    """The demo's embedded broker in a child process on a fixed free port; stops and starts."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it accepts connections."""
        argv = [sys.executable, str(EMBEDDED_SCRIPT), "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def stop(self) -> None:
        """SIGTERM, wait for a clean exit and for the port to close."""
        if self._process is not None:
            self._process.terminate()
            assert self._process.wait(timeout=10) == 0, self.log_path.read_text()[-2000:]
            self._process = None
            wait_for_port(self.port, open_=False)


class Central:
    """A persistent 3.1.1 subscriber (fixed client id) to one device's topics."""

    def __init__(self, port: int, device_id: str) -> None:
        self.client = _client(port, "central", "central-embedded")
        self._lock = threading.Lock()
        self.received: list[tuple[str, dict[str, object]]] = []
        self.client.subscribe(f"anju/v1/dev/{device_id}/#")
        self.client.on_message(self._keep)
        self.client.start()
        assert self.client.wait_connected(10), "central never connected"

    def _keep(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.received.append((topic, json.loads(payload)))

    def event_ids(self) -> list[str]:
        """Ids of the events received, with duplicates."""
        with self._lock:
            return [str(body["event_id"]) for topic, body in self.received if "/events/" in topic]

    def saw(self, topic_part: str) -> bool:
        """Whether a message whose topic contains ``topic_part`` arrived."""
        with self._lock:
            return any(topic_part in topic for topic, _ in self.received)

    def stop(self) -> None:
        """Disconnect (the broker keeps the session and queues for it)."""
        self.client.stop()


CentralMaker = Callable[[str], Central]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """The embedded broker, started; stopped afterwards."""
    started = EmbeddedBroker(tmp_path / "amqtt.log")
    started.start()
    yield started
    started.stop()


@pytest.fixture
def make_central(broker: EmbeddedBroker) -> Iterator[CentralMaker]:
    """Start subscribers standing for central; all stopped afterwards."""
    made: list[Central] = []

    def make(device_id: str) -> Central:
        made.append(Central(broker.port, device_id))
        return made[-1]

    yield make
    for central in made:
        central.stop()


def _publisher(make: Maker, broker: EmbeddedBroker, device_id: str) -> EventPublisher:
    return make(broker.port, mqtt={"protocol": "3.1.1", "username": device_id})


def _send(publisher: EventPublisher, count: int) -> list[str]:
    return [
        str(publisher.publish(Heartbeat(uptime_s=i, outbox_depth=0)).event_id) for i in range(count)
    ]


def _central_ready(make: CentralMaker, device_id: str) -> Central:
    """Central subscribed: the node's retained status arrived, so events will too."""
    central = make(device_id)
    wait_until(lambda: central.saw("/status"))
    return central


def _probe(port: int, device_id: str) -> None:
    """A retained message under the device's topics: it reaches central once subscribed."""
    probe = _client(port, "probe", "probe")
    probe.start()
    try:
        assert probe.wait_connected(10), "the probe never connected"
        topic = f"anju/v1/dev/{device_id}/probe"
        assert probe.publish(topic, b'{"probe": true}', retain=True).wait(10)
    finally:
        probe.stop()


def test_events_arrive_exactly_once_also_while_central_is_away(
    broker: EmbeddedBroker, device_id: str, make_publisher: Maker, make_central: CentralMaker
) -> None:
    publisher = _publisher(make_publisher, broker, device_id)
    wait_until(lambda: publisher.connected)
    central = _central_ready(make_central, device_id)
    sent = _send(publisher, EVENTS)
    wait_until(lambda: set(central.event_ids()) == set(sent))
    central.stop()
    sent += _send(publisher, EVENTS)  # acknowledged by the broker and queued for central
    wait_until(lambda: publisher.outbox_depth == 0)
    back = make_central(device_id)  # the same client id: the session kept while away
    wait_until(lambda: len(back.event_ids()) >= EVENTS)
    received = central.event_ids() + back.event_ids()
    assert Counter(received) == Counter(sent), "every event once, none lost, none repeated"


def test_outbox_carries_events_across_a_broker_restart(
    broker: EmbeddedBroker, device_id: str, make_publisher: Maker, make_central: CentralMaker
) -> None:
    node = _publisher(make_publisher, broker, device_id)
    wait_until(lambda: node.connected)
    central = _central_ready(make_central, device_id)
    sent = _send(node, EVENTS)
    wait_until(lambda: set(central.event_ids()) == set(sent))
    broker.stop()
    sent += _send(node, EVENTS)
    wait_until(lambda: node.outbox_depth == EVENTS)  # kept while the broker is down
    node.stop()
    broker.start()  # empty: central's subscription must come back before the node does
    _probe(broker.port, device_id)
    wait_until(lambda: central.saw("/probe"))
    node = _publisher(make_publisher, broker, device_id)  # the same outbox file
    wait_until(lambda: node.outbox_depth == 0)
    wait_until(lambda: set(central.event_ids()) == set(sent))
    assert Counter(central.event_ids()) == Counter(sent)


def test_protocol_setting_reads_yaml_numbers_and_refuses_what_3_1_1_lacks() -> None:
    assert MqttConfig.model_validate({"protocol": 5}).protocol == "5"
    with pytest.raises(ValidationError, match="session_expiry_s needs protocol 5"):
        MqttConfig(protocol="3.1.1", session_expiry_s=60)
    with pytest.raises(ValidationError, match="shared_group needs protocol 5"):
        CentralMqttConfig(protocol="3.1.1", shared_group="central")
    with pytest.raises(ValidationError, match=r"ingest\.receive_maximum: MQTT 5 only"):
        CentralSettings.model_validate(
            {"mqtt": {"protocol": "3.1.1"}, "ingest": {"receive_maximum": 10}}
        )


def test_central_ingest_subscribes_without_share_over_3_1_1() -> None:
    assert event_subscription(CentralMqttConfig()) == "$share/central/anju/v1/dev/+/+/#"
    assert event_subscription(CentralMqttConfig(protocol="3.1.1")) == "anju/v1/dev/+/+/#"
