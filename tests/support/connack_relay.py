"""A relay in front of a real broker that passes each connection's CONNECT and CONNACK, keeps
the link ``hold_s`` and closes it: what a broker that accepts and then kicks a client (ACL,
session takeover, a proxy) looks like, to test that clients back off instead of flapping."""

from __future__ import annotations

import itertools
import socket
import threading
import time


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


def attempts_grow_apart(arrivals: list[float], min_s: float, max_s: float, window_s: float) -> None:
    """Assert that connection ``arrivals`` over ``window_s`` follow a backoff whose waits are drawn
    from ``[delay / 2, delay]``, the delay doubling from ``min_s`` to ``max_s``: the n-th gap is
    at least ``min_s * 2**n / 2``, so few attempts fit in the window (a client that resets its
    delay on every CONNACK makes one every ``min_s`` or less)."""
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    floors = [min(min_s * 2**n, max_s) / 2 for n in range(len(gaps))]
    most = _most_attempts(min_s, max_s, window_s)
    assert len(arrivals) >= 3, f"the client stopped reconnecting: {arrivals}"
    assert len(arrivals) <= most, f"{len(arrivals)} attempts in {window_s} s: flapping"
    assert all(gap >= floor for gap, floor in zip(gaps, floors, strict=True)), gaps


def _most_attempts(min_s: float, max_s: float, window_s: float) -> int:
    """Attempts that fit in ``window_s`` when every wait is its shortest (``delay / 2``)."""
    attempts, elapsed, delay = 1, 0.0, min_s
    while elapsed + delay / 2 <= window_s:
        elapsed += delay / 2
        attempts += 1
        delay = min(delay * 2, max_s)
    return attempts
