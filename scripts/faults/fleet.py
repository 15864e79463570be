"""Many simulated nodes per process: real ``EventPublisher``s driven by line commands.

paho's network loop waits with ``select()``, which cannot watch file descriptors above 1023,
and every node holds about six (its socket, paho's wake-up pair, the SQLite outbox with its
WAL and shared-memory files). So a fleet of hundreds runs as several child processes of at
most ``NODES_PER_PROCESS`` nodes each:
``python -m scripts.faults.fleet PORT JOURNAL SPECS.json`` starts one for the devices listed
in SPECS.json, connected to 127.0.0.1:PORT with the production backoff settings. It answers
each command on stdin with one JSON line on stdout: ``status`` (connected, queued, given_up),
``publish`` (one journalled heartbeat from every node), ``report`` (the MQTT client's connect
log) and ``stop``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from edge.comms.config import MqttConfig, OutboxConfig, TransportConfig
from edge.contract import Heartbeat, load_private_key
from edge.events.publisher import EventPublisher
from scripts.faults.checker import JournalWriter
from scripts.faults.device import DeviceSpec

log = logging.getLogger(__name__)
MQTT_LOGGER = "edge.comms.mqtt"
NODES_PER_PROCESS = 100


class ConnectLog(logging.Handler):
    """The edge MQTT client's connect outcomes, per client loop thread, with their times."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self._records_lock = threading.Lock()
        self.connected: dict[int, list[float]] = defaultdict(list)
        self.waits: list[tuple[float, float]] = []
        self.refusals: list[str] = []
        self.tcp_failures = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Sort one record of ``edge.comms.mqtt`` by its format string."""
        message = str(record.msg)
        with self._records_lock:
            if message.startswith("mqtt connected"):
                self.connected[record.thread or 0].append(record.created)
            elif message.startswith("mqtt reconnecting") and isinstance(record.args, tuple):
                self.waits.append((record.created, float(str(record.args[0]))))
            elif message.startswith(("mqtt connect rejected", "mqtt login refused")):
                self.refusals.append(record.getMessage())
            elif message.startswith("mqtt connect failed"):
                self.tcp_failures += 1

    def as_json(self) -> dict[str, Any]:
        """Everything collected, per client without thread ids (they mean nothing outside)."""
        with self._records_lock:
            return {
                "connects": list(self.connected.values()),
                "waits": self.waits,
                "refusals": self.refusals,
                "tcp_failures": self.tcp_failures,
            }


@contextmanager
def watching_connects() -> Iterator[ConnectLog]:
    """Attach a ``ConnectLog`` to the edge MQTT client's logger (at INFO) for the block."""
    logger = logging.getLogger(MQTT_LOGGER)
    handler = ConnectLog()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def node_publisher(spec: DeviceSpec, port: int) -> EventPublisher:
    """A node's publisher to 127.0.0.1:``port`` with the production backoff defaults."""
    mqtt = MqttConfig(port=port, username=spec.device_id, password_file=Path(spec.password_file))
    config = TransportConfig(mqtt=mqtt, outbox=OutboxConfig(path=Path(spec.outbox)))
    return EventPublisher(config, load_private_key(spec.private_key), spec.site_id, spec.device_id)


class Fleet:
    """Real publishers for the given devices in this process, journalling every event."""

    def __init__(self, specs: list[DeviceSpec], port: int, journal: JournalWriter) -> None:
        self.publishers = {spec.device_id: node_publisher(spec, port) for spec in specs}
        self._journal = journal
        self._seq = 0

    def start(self) -> None:
        """Start every node (each connects at once, as after a power cut)."""
        for publisher in self.publishers.values():
            publisher.start()

    def publish_round(self) -> int:
        """One heartbeat from every node, journalled once it is in the node's outbox."""
        for device_id, publisher in self.publishers.items():
            depth = publisher.outbox_depth
            envelope = publisher.publish(Heartbeat(uptime_s=float(self._seq), outbox_depth=depth))
            self._journal.record(device_id, str(envelope.event_id), self._seq)
        self._seq += 1
        return len(self.publishers)

    def status(self) -> dict[str, Any]:
        """Connected nodes, events still queued, and why any node gave up for good."""
        publishers = self.publishers.items()
        return {
            "connected": sum(p.connected for _, p in publishers),
            "queued": sum(p.outbox_depth for _, p in publishers),
            "given_up": [f"{d}: {p.failure}" for d, p in publishers if p.failure],
        }

    def stop(self) -> None:
        """Stop every node (drained or not), all at once."""
        stoppers = [threading.Thread(target=p.stop) for p in self.publishers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()


def serve(fleet: Fleet, connects: ConnectLog, commands: IO[str], replies: IO[str]) -> None:
    """Answer commands until ``stop`` or the end of input (then stop the fleet)."""
    try:
        for line in commands:
            command = line.strip()
            if command == "stop":
                break
            answers = {
                "status": fleet.status,
                "publish": lambda: {"published": fleet.publish_round()},
                "report": connects.as_json,
            }
            answer = answers.get(command)
            reply = answer() if answer else {"error": f"unknown command {command!r}"}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        fleet.stop()
    replies.write(json.dumps({"stopped": True}) + "\n")
    replies.flush()


class FleetProcess:
    """The parent's handle on one fleet child process."""

    def __init__(self, specs: list[DeviceSpec], port: int, journal: Path, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        specs_path = folder / "specs.json"
        specs_path.write_text(json.dumps([asdict(spec) for spec in specs]), encoding="utf-8")
        specs_path.chmod(0o600)  # private keys
        argv = [sys.executable, "-m", "scripts.faults.fleet", str(port), str(journal)]
        with (folder / "fleet.log").open("ab") as output:
            self.process = subprocess.Popen(
                [*argv, str(specs_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=output,
                text=True,
            )
        self.nodes = len(specs)

    def send(self, command: str) -> None:
        """Send one command (read its answer with ``answer``)."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def answer(self, command: str) -> dict[str, Any]:
        """The JSON answer to the command sent last."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"fleet process {self.process.pid} exited ({command})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        """Stop its nodes and wait for it to exit."""
        if self.process.poll() is None:
            try:
                self.send("stop")
                self.answer("stop")
            except (OSError, RuntimeError):
                self.process.kill()
        self.process.wait(60)


def main(argv: list[str]) -> int:
    """Entry point of a fleet child process."""
    from anju.logs import setup_logging

    setup_logging("warning")
    port, journal_path, specs_path = int(argv[0]), Path(argv[1]), Path(argv[2])
    specs = [DeviceSpec(**item) for item in json.loads(specs_path.read_text(encoding="utf-8"))]
    with watching_connects() as connects, JournalWriter(journal_path) as journal:
        fleet = Fleet(specs, port, journal)
        fleet.start()
        serve(fleet, connects, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
