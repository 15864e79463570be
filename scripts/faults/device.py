"""A simulated edge device as a child process: the real ``EventPublisher`` (SQLite outbox, signed
events, QoS 1) publishing heartbeats at a fixed rate and journalling each one once stored.

``python -m scripts.faults.device SPEC.json RATE DURATION_S``: publish for DURATION_S seconds
(0: until killed), then wait for the outbox to drain and stop cleanly (exit 0; 3 if the outbox
did not drain within the spec's ``drain_timeout_s``). Restarted on the same outbox and journal,
it goes on with the next sequence number and re-sends whatever the outbox still holds.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edge.comms.config import MqttConfig, OutboxConfig, TransportConfig
from edge.contract import Heartbeat, load_private_key
from edge.events.publisher import EventPublisher
from scripts.faults.checker import JournalWriter, read_journal

log = logging.getLogger(__name__)
EXIT_NOT_DRAINED = 3


@dataclass(frozen=True)
class DeviceSpec:
    """Everything a device process needs: identity, secrets, broker, outbox and journal."""

    device_id: str
    site_id: str
    private_key: str
    password_file: str
    port: int
    outbox: str
    journal: str
    drain_timeout_s: float = 120.0

    def write(self, path: Path) -> None:
        """Save as JSON (mode 0600: it holds the private key)."""
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        path.chmod(0o600)

    @classmethod
    def read(cls, path: Path) -> DeviceSpec:
        """Load a spec written by ``write``."""
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def next_seq(journal: Path, device_id: str) -> int:
    """One past the highest sequence number the device journalled (0 for a new device)."""
    seqs = [entry.seq for entry in read_journal(journal) if entry.device_id == device_id]
    return max(seqs, default=-1) + 1


def make_publisher(spec: DeviceSpec) -> EventPublisher:
    """The device's publisher, reconnecting fast (faults are short)."""
    config = TransportConfig(
        mqtt=MqttConfig(
            port=spec.port,
            username=spec.device_id,
            password_file=Path(spec.password_file),
            reconnect_min_s=0.2,
            reconnect_max_s=2.0,
            ack_timeout_s=5.0,
        ),
        outbox=OutboxConfig(path=Path(spec.outbox)),
    )
    return EventPublisher(config, load_private_key(spec.private_key), spec.site_id, spec.device_id)


def run(spec: DeviceSpec, rate: float, duration_s: float, stop: threading.Event) -> int:
    """Publish until ``duration_s`` passed (0: until ``stop``), then drain and stop."""
    seq = next_seq(Path(spec.journal), spec.device_id)
    publisher = make_publisher(spec)
    publisher.start()
    published = 0
    started = time.monotonic()
    with JournalWriter(Path(spec.journal)) as journal:
        while not stop.is_set() and (duration_s <= 0 or time.monotonic() - started < duration_s):
            depth = publisher.outbox_depth
            envelope = publisher.publish(Heartbeat(uptime_s=float(seq), outbox_depth=depth))
            journal.record(spec.device_id, str(envelope.event_id), seq)
            seq += 1
            published += 1
            stop.wait(max(0.0, started + published / rate - time.monotonic()))
    drained = _wait_drained(publisher, spec.drain_timeout_s)
    log.info(
        "device stopping device=%s published=%d outbox_depth=%d drained=%s",
        spec.device_id,
        published,
        publisher.outbox_depth,
        drained,
    )
    publisher.stop()
    return 0 if drained else EXIT_NOT_DRAINED


def _wait_drained(publisher: EventPublisher, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while publisher.outbox_depth > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    return publisher.outbox_depth == 0


def main(argv: list[str]) -> int:
    """Entry point of the child process (SIGTERM: stop publishing, drain, exit)."""
    from anju.logs import setup_logging

    setup_logging("info")
    spec = DeviceSpec.read(Path(argv[0]))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return run(spec, float(argv[1]), float(argv[2]), stop)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
