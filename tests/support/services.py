"""Real services for tests: the machine's Mosquitto and PostgreSQL, or private Mosquittos.

A service that is down skips its tests on a developer's machine and fails them with CI=true,
so a missing service can never pass silently in CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MOSQUITTO_PORT = 1883
POSTGRES_ADMIN_URL = os.environ.get(
    "ANJU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def unavailable(message: str) -> None:
    """Skip the test on a developer's machine; fail it with CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_service(name: str, port: int) -> None:
    """Skip (or, with CI=true, fail) unless ``name`` listens on 127.0.0.1:``port``."""
    if not port_open(port):
        unavailable(f"{name} is not running on 127.0.0.1:{port} (see README: running the tests)")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 10.0, open_: bool = True) -> None:
    """Wait until the port is open (or closed); AssertionError on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_open(port) == open_:
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not become {'open' if open_ else 'closed'}")


def run_as_line(settings: str) -> str:
    """``user root`` when the tests run as root (containers) and ``settings`` name no user.

    Started as root, Mosquitto otherwise switches to the ``mosquitto`` user, which cannot read
    pytest's 0700 temporary folders; Mosquitto refuses a second ``user`` line.
    """
    names_user = any(line.split()[:1] == ["user"] for line in settings.splitlines())
    return "user root\n" if os.geteuid() == 0 and not names_user else ""


class PrivateMosquitto:
    """A Mosquitto of the test's own on a free port, with its own config; can stop and start.

    ``extra_config`` (default: anonymous access) follows the listener, persistence and log
    lines; ``user root`` is added when running as root (see ``run_as_line``).
    """

    def __init__(self, folder: Path, extra_config: str = "", port: int | None = None) -> None:
        if shutil.which("mosquitto") is None:
            unavailable("the mosquitto binary is not installed (apt-get install mosquitto)")
        self.port = port or free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        settings = extra_config or "allow_anonymous true\n"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"persistence true\npersistence_location {folder}/\n"
            f"log_dest file {folder}/mosquitto.log\n" + settings + run_as_line(settings)
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        self._process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the broker (it saves its persistent sessions) and wait until the port closes."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
            wait_for_port(self.port, open_=False)


@contextmanager
def private_mosquitto(folder: Path, extra_config: str = "") -> Iterator[PrivateMosquitto]:
    """A started ``PrivateMosquitto``, stopped afterwards."""
    broker = PrivateMosquitto(folder, extra_config)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    require_service("PostgreSQL", 5432)
    import psycopg

    name = f"anju_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
