"""A node whose broker link drops right after every CONNACK backs off instead of flapping.

Between the client and the real Mosquitto sits a relay that passes each connection's CONNECT
and CONNACK, keeps the link ``hold_s`` and closes it: what a broker that accepts and then kicks
the client (ACL, session takeover, a proxy) looks like. Brokers with flapping detection (EMQX)
ban a client that reconnects like that several times a second.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest

from edge.comms.config import MqttConfig
from edge.comms.mqtt import MqttClient
from tests.edge.transport.helpers import wait_until
from tests.support.connack_relay import ConnackThenClose, attempts_grow_apart
from tests.support.services import MOSQUITTO_PORT, require_service

MIN_S = 0.1
MAX_S = 1.6
WINDOW_S = 3.0


@pytest.fixture
def relay(request: pytest.FixtureRequest) -> Iterator[ConnackThenClose]:
    """A CONNACK-then-close relay in front of Mosquitto, holding each link ``request.param`` s."""
    require_service("Mosquitto", MOSQUITTO_PORT)
    made = ConnackThenClose(MOSQUITTO_PORT, hold_s=request.param)
    yield made
    made.close()


@pytest.fixture
def start_client() -> Iterator[list[MqttClient]]:
    """A list to put started clients in; all stopped afterwards."""
    started: list[MqttClient] = []
    yield started
    for client in started:
        client.stop()


def _client(port: int, stable_after_s: float) -> MqttClient:
    config = MqttConfig(
        port=port,
        session_expiry_s=0,
        reconnect_min_s=MIN_S,
        reconnect_max_s=MAX_S,
        stable_after_s=stable_after_s,
    )
    return MqttClient(config, f"flap-{uuid.uuid4().hex[:10]}")


@pytest.mark.parametrize("relay", [0.0], indirect=True)
def test_dropped_after_each_connack_the_attempts_grow_apart(
    relay: ConnackThenClose, start_client: list[MqttClient]
) -> None:
    client = _client(relay.port, stable_after_s=30.0)
    start_client.append(client)
    client.start()
    time.sleep(WINDOW_S)
    client.stop()
    attempts_grow_apart(relay.arrivals, MIN_S, MAX_S, WINDOW_S)


@pytest.mark.parametrize("relay", [0.6], indirect=True)
def test_a_connection_that_stayed_up_resets_the_delay(
    relay: ConnackThenClose, start_client: list[MqttClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge.comms.mqtt")
    client = _client(relay.port, stable_after_s=0.3)
    start_client.append(client)
    client.start()
    wait_until(lambda: len(relay.arrivals) >= 5)
    client.stop()
    waits = [
        record.args[0]
        for record in caplog.records
        if isinstance(record.args, tuple) and record.getMessage().startswith("mqtt reconnecting")
    ]
    assert len(waits) >= 4, waits
    assert all(isinstance(wait, float) and wait <= MIN_S for wait in waits), waits
