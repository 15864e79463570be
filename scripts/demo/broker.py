"""The demo's MQTT broker: a private Mosquitto on a free port with its own configuration."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from scripts.demo.procs import Child, Children, DemoError, free_port, port_open, wait_until

log = logging.getLogger(__name__)
START_TIMEOUT_S = 15.0


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


def start_broker(folder: Path, children: Children) -> tuple[Child, int]:
    """Start Mosquitto with a config written to ``folder``; (the child, its port)."""
    binary = shutil.which("mosquitto") or _sbin("mosquitto")
    if binary is None:
        raise DemoError(
            "Mosquitto is not installed: apt-get install mosquitto (or brew install mosquitto). "
            "An embedded Python broker cannot stand in: amqtt 0.12 refuses MQTT 5 connections "
            "and does not deliver shared subscriptions, which the nodes and central rely on."
        )
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(mosquitto_config(folder.resolve(), port), encoding="utf-8")
    child = children.start("mosquitto", [binary, "-c", str(config)])
    wait_until(
        lambda: port_open(port), "the broker accepting connections", START_TIMEOUT_S, children
    )
    log.info("step=broker kind=mosquitto port=%d config=%s", port, config)
    return child, port


def _sbin(name: str) -> str | None:
    for folder in ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"):
        path = Path(folder) / name
        if path.is_file():
            return str(path)
    return None
