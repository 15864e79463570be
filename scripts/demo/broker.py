"""The demo's MQTT broker: a private Mosquitto on a free port with its own configuration when
the binary is installed, else the embedded Python broker (amqtt, MQTT 3.1.1, in memory)."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from edge.contract.topics import MqttProtocol
from scripts.demo.procs import Children, DemoError, free_port, port_open, wait_until

log = logging.getLogger(__name__)
START_TIMEOUT_S = 15.0
SBIN_FOLDERS = ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin")
EMBEDDED_SCRIPT = Path(__file__).with_name("embedded_broker.py")
BrokerChoice = Literal["auto", "mosquitto", "embedded"]
BROKER_CHOICES: tuple[BrokerChoice, ...] = ("auto", "mosquitto", "embedded")


@dataclass(frozen=True)
class DemoBroker:
    """The running broker: which one, its port, and the MQTT protocol the clients must speak."""

    kind: Literal["mosquitto", "embedded"]
    port: int
    protocol: MqttProtocol

    def client_settings(self, username: str) -> dict[str, Any]:
        """The ``mqtt`` keys of a node's or central's configuration for this broker; the
        embedded one wants a user name (any, no password) to keep a client's session."""
        settings: dict[str, Any] = {"host": "127.0.0.1", "port": self.port}
        if self.kind == "embedded":
            settings |= {"protocol": self.protocol, "username": username}
        return settings


def start_broker(folder: Path, children: Children, choice: BrokerChoice = "auto") -> DemoBroker:
    """Start Mosquitto (``auto``: when installed) or the embedded broker; wait until it listens."""
    binary = mosquitto_binary()
    if choice == "embedded" or (choice == "auto" and binary is None):
        return _start_embedded(children)
    if binary is None:
        raise DemoError(
            "Mosquitto is not installed: apt-get install mosquitto (or brew install mosquitto), "
            "or run the demo with --broker embedded"
        )
    return _start_mosquitto(binary, folder, children)


def _start_embedded(children: Children) -> DemoBroker:
    """amqtt in a child process (scripts/demo/embedded_broker.py) on a free port."""
    if importlib.util.find_spec("amqtt") is None:
        raise DemoError(
            "no MQTT broker: install Mosquitto (apt-get install mosquitto) or the embedded one "
            "(pip install amqtt; `make demo` installs it)"
        )
    broker = DemoBroker("embedded", free_port(), "3.1.1")
    children.start("amqtt", [sys.executable, str(EMBEDDED_SCRIPT), "--port", str(broker.port)])
    _wait_listening(broker.port, children)
    log.info(
        "step=broker kind=embedded server=amqtt protocol=%s port=%d persistence=none use=demo_only",
        broker.protocol,
        broker.port,
    )
    return broker


def _wait_listening(port: int, children: Children) -> None:
    wait_until(
        lambda: port_open(port), "the broker accepting connections", START_TIMEOUT_S, children
    )


def mosquitto_config(folder: Path, port: int) -> str:
    """A broker on 127.0.0.1 only (anonymous: nothing else can reach it), persistent sessions and
    queues large enough that no QoS 1 event is dropped while central starts."""
    return (
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        f"persistence true\npersistence_location {folder}/\n"
        "max_queued_messages 100000\n"
        f"log_dest file {folder}/mosquitto.log\n"
    )


def _start_mosquitto(binary: str, folder: Path, children: Children) -> DemoBroker:
    """Mosquitto with a config written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(mosquitto_config(folder.resolve(), port), encoding="utf-8")
    children.start("mosquitto", [binary, "-c", str(config)])
    _wait_listening(port, children)
    log.info("step=broker kind=mosquitto protocol=5 port=%d config=%s", port, config)
    return DemoBroker("mosquitto", port, "5")


def mosquitto_binary() -> str | None:
    """Mosquitto's path: on the PATH or in an sbin folder the PATH may lack; None if missing."""
    sbin = (Path(folder) / "mosquitto" for folder in SBIN_FOLDERS)
    return shutil.which("mosquitto") or next((str(path) for path in sbin if path.is_file()), None)
