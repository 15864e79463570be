"""Helper process for the transport tests (run as a script, never imported by pytest).

``stream OUTBOX PORT DEVICE COUNT RATE``: publish COUNT heartbeats at RATE per second through an
``EventPublisher``, printing each event id once ``publish`` returned, then wait to be killed.
``fill OUTBOX``: under a small file-size limit (a full disk), add events until the outbox
refuses; print how many were stored and the error.
"""

from __future__ import annotations

import resource
import signal
import sys
import time
from pathlib import Path

from edge.comms.config import MqttConfig, OutboxConfig, TransportConfig
from edge.contract import Heartbeat
from edge.events.outbox import Outbox, OutboxError
from edge.events.publisher import EventPublisher
from tests.edge.transport.helpers import COMPOUND, DEVICE_KEY


def stream(outbox: str, port: int, device_id: str, count: int, rate: float) -> None:
    config = TransportConfig(
        mqtt=MqttConfig(port=port, reconnect_min_s=0.1, reconnect_max_s=0.5),
        outbox=OutboxConfig(path=Path(outbox)),
    )
    publisher = EventPublisher(config, DEVICE_KEY, COMPOUND, device_id)
    publisher.start()
    for i in range(count):
        envelope = publisher.publish(Heartbeat(uptime_s=float(i), outbox_depth=0))
        print(envelope.event_id, flush=True)
        time.sleep(1.0 / rate)
    print("done", flush=True)
    time.sleep(3600)


def fill(outbox_path: str) -> None:
    outbox = Outbox(OutboxConfig(path=Path(outbox_path)))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = 256 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    stored = 0
    try:
        for i in range(100_000):
            outbox.add(f"e{i}", "t", bytes(500))
            stored += 1
    except OutboxError as exc:
        print(f"{stored}\t{type(exc).__name__}: {exc}", flush=True)
        return
    print(f"{stored}\tno error", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "stream":
        stream(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    else:
        fill(sys.argv[2])
