"""A node whose broker link drops right after every CONNACK backs off instead of flapping.

Between the client and the real Mosquitto sits a relay that passes each connection's CONNECT
and CONNACK, keeps the link ``hold_s`` and closes it: what a broker that accepts and then kicks
the client (ACL, session takeover, a proxy) looks like. Brokers with flapping detection (EMQX)
ban a client that reconnects like that several times a second.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from edge.comms.config import MqttConfig
from edge.comms.mqtt import MqttClient
from tests.edge.transport.helpers import wait_until
from tests.support.services import MOSQUITTO_PORT, require_service

MIN_S = 0.1
MAX_S = 1.6
WINDOW_S = 3.0


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed mid-packet")
        data += chunk
    return data


def _read_packet(sock: socket.socket) -> bytes:
    """One whole MQTT control packet: type byte, variable-length remaining length, the rest."""
    header = bytearray(_read_exactly(sock, 1))
    length, shift = 0, 0
    while True:
        byte = _read_exactly(sock, 1)[0]
        header.append(byte)
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return bytes(header) + _read_exactly(sock, length)


class ConnackThenClose:
    """Relays 127.0.0.1:``port`` to the broker for one CONNECT/CONNACK exchange per connection,
    then closes both sides after ``hold_s``; ``arrivals``: when each connection came."""

    def __init__(self, broker_port: int, hold_s: float) -> None:
        self._broker_port = broker_port
        self._hold_s = hold_s
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port: int = self._server.getsockname()[1]
        self.arrivals: list[float] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="connack-relay", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and end the relay thread."""
        self._stopping.set()
        self._thread.join(5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            self.arrivals.append(time.monotonic())
            client.settimeout(5)
            try:
                with (
                    client,
                    socket.create_connection(("127.0.0.1", self._broker_port), 5) as broker,
                ):
                    broker.sendall(_read_packet(client))
                    client.sendall(_read_packet(broker))
                    self._stopping.wait(self._hold_s)
            except OSError:
                continue


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
    arrivals = list(relay.arrivals)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Each wait is drawn from [delay / 2, delay], the delay doubling from MIN_S to MAX_S, so the
    # n-th gap is at least MIN_S * 2**n / 2 and at most 7 attempts fit in WINDOW_S (a client
    # that resets its delay on every CONNACK makes one every MIN_S or less: 30 and more).
    floors = [min(MIN_S * 2**n, MAX_S) / 2 for n in range(len(gaps))]
    assert len(arrivals) >= 3, f"the client stopped reconnecting: {arrivals}"
    assert len(arrivals) <= 7, f"{len(arrivals)} attempts in {WINDOW_S} s: flapping"
    assert all(gap >= floor for gap, floor in zip(gaps, floors, strict=True)), gaps


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
