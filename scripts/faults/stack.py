"""The system under fault: a private Mosquitto with central's generated policy, central's
database with provisioned devices, ingest workers and simulated devices as child processes.

Devices are provisioned through central's own ``provision_device`` (signing key, MQTT password)
and the broker authenticates them from the password and ACL files central writes.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import yaml
from sqlalchemy import make_url

from central.broker.mosquitto import policy_block
from central.core.secrets import load_secrets
from central.core.settings import load_settings
from central.db.migrate import upgrade
from central.db.models import Base
from central.db.session import make_engine, make_session_factory
from central.devices.provision import provision_device
from central.ingest.pipeline import PAUSE_BEFORE_COMMIT_ENV
from scripts.demo.procs import Child, Children
from scripts.faults.checker import Verdict, check, read_journal, stored_rows
from scripts.faults.device import DeviceSpec
from tests.central.ingest.helpers import password_of
from tests.central.ingest.mqtt_helpers import CENTRAL_USER, broker_config, write_auth_files
from tests.support.services import PrivateMosquitto

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
SITE_ID = "faults-site"
INGEST_CLIENT_ID = "faults-ingest"
INGEST_READY = "ingest subscribed"
START_TIMEOUT_S = 60.0


class FaultError(RuntimeError):
    """The stack could not do what a scenario asked (a process never came up, died early)."""


class Stack:
    """One run's broker, database, journal and child processes (use ``fault_stack``)."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.journal = folder / "journal.jsonl"
        self.children = Children(folder / "logs")
        self.devices: list[DeviceSpec] = []
        self._auth = broker_config(folder / "broker")
        self.broker = PrivateMosquitto(folder / "broker", policy_block(self._auth))
        self._starts = 0

    def provision(self, count: int, prefix: str = "dev") -> list[DeviceSpec]:
        """Register ``count`` outlet devices with central and write the broker's auth files;
        call before ``broker.start()`` (Mosquitto reads the files when it starts)."""
        engine = make_engine(self.database_url)
        try:
            upgrade(engine)
            Base.metadata.create_all(engine)
            sessions = make_session_factory(engine)
            made: list[DeviceSpec] = []
            with sessions() as session, session.begin():
                for index in range(len(self.devices), len(self.devices) + count):
                    device_id = f"{prefix}-{index:04d}"
                    secrets = provision_device(
                        session, device_id, "outlet", SITE_ID, None, "faults"
                    )
                    made.append(
                        self._device_spec(device_id, secrets.private_key, secrets.mqtt_password)
                    )
            write_auth_files(self._auth, sessions)
        finally:
            engine.dispose()
        self.devices += made
        log.info("step=provision devices=%d total=%d", count, len(self.devices))
        return made

    def start_ingest(
        self,
        pause_before_commit_s: float = 0.0,
        client_id: str = INGEST_CLIENT_ID,
        wait: bool = True,
    ) -> Child:
        """Start an ingest worker process as ``client_id`` (a restarted worker with the same id
        resumes its broker session); with ``wait``, until it subscribed. On PostgreSQL its
        connections carry the client id as ``application_name``."""
        self._starts += 1
        url = make_url(self.database_url)
        if url.get_backend_name() == "postgresql":
            url = url.update_query_dict({"application_name": client_id})
        env = {"DATABASE_URL": url.render_as_string(hide_password=False), "PYTHONPATH": str(REPO)}
        if pause_before_commit_s > 0:
            env[PAUSE_BEFORE_COMMIT_ENV] = str(pause_before_commit_s)
        argv = [sys.executable, "-m", "central.ingest.cli", "ingest"]
        config = self.central_config(client_id)
        child = self.children.start(
            f"{client_id}-{self._starts}", [*argv, "--config", str(config)], env=env
        )
        if wait:
            wait_for_log(child, INGEST_READY)
        return child

    def start_device(self, spec: DeviceSpec, rate: float, duration_s: float) -> Child:
        """Start a device process publishing ``rate`` events/s for ``duration_s`` (0: until
        stopped or killed); it drains its outbox and exits after that."""
        self._starts += 1
        argv = [sys.executable, "-m", "scripts.faults.device"]
        return self.children.start(
            f"{spec.device_id}-{self._starts}",
            [*argv, str(self._spec_path(spec)), str(rate), str(duration_s)],
            service=False,
            env={"PYTHONPATH": str(REPO)},
        )

    def verdict(self) -> Verdict:
        """The checker's verdict on the journal and the stored rows right now."""
        return check(read_journal(self.journal), stored_rows(self.database_url))

    def settle(self, timeout_s: float) -> Verdict:
        """Wait until every journalled event is stored (or ``timeout_s``); the verdict then."""
        deadline = time.monotonic() + timeout_s
        verdict = self.verdict()
        while verdict.totals.lost > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            verdict = self.verdict()
        log.info(
            "step=settled published=%d stored=%d lost=%d duplicated=%d",
            verdict.totals.published,
            verdict.totals.stored,
            verdict.totals.lost,
            verdict.totals.duplicated,
        )
        return verdict

    def close(self) -> None:
        """Stop every child (newest first), then the broker."""
        self.children.stop_all()
        self.broker.stop()

    def _device_spec(self, device_id: str, private_key: str, password: str) -> DeviceSpec:
        folder = self.folder / "devices" / device_id
        folder.mkdir(parents=True, exist_ok=True)
        password_file = folder / "mqtt.password"
        password_file.write_text(password, encoding="utf-8")
        password_file.chmod(0o600)
        spec = DeviceSpec(
            device_id=device_id,
            site_id=SITE_ID,
            private_key=private_key,
            password_file=str(password_file),
            port=self.broker.port,
            outbox=str(folder / "outbox.sqlite3"),
            journal=str(self.journal),
        )
        spec.write(self._spec_path(spec))
        return spec

    def _spec_path(self, spec: DeviceSpec) -> Path:
        return self.folder / "devices" / spec.device_id / "spec.json"

    def central_config(self, client_id: str) -> Path:
        """The config of the ingest worker ``client_id``, written on first use; every worker
        shares one set of secrets, created with the first config (no race between workers)."""
        folder = self.folder / "central"
        path = folder / f"{client_id}.yaml"
        if path.exists():
            return path
        folder.mkdir(parents=True, exist_ok=True)
        password_file = folder / "mqtt.password"
        password_file.write_text(password_of(CENTRAL_USER), encoding="utf-8")
        section = {
            "database_url": self.database_url,
            "signing_key_file": str(folder / "signing.key"),
            "at_rest_key_file": str(folder / "at-rest.key"),
            "jwt_secret_file": str(folder / "jwt.secret"),
            "mqtt": {
                "port": self.broker.port,
                "username": CENTRAL_USER,
                "password_file": str(password_file),
                "client_id": client_id,
            },
            "ingest": {"retire_on_stop": True},
        }
        path.write_text(yaml.safe_dump({"central": section}), encoding="utf-8")
        load_secrets(load_settings(path))
        return path


@contextmanager
def fault_stack(folder: Path, database_url: str, devices: int) -> Iterator[Stack]:
    """A stack with ``devices`` provisioned devices and its broker started; all stopped after."""
    stack = Stack(folder, database_url)
    stack.provision(devices)
    stack.broker.start()
    try:
        yield stack
    finally:
        stack.close()


def kill(child: Child) -> None:
    """SIGKILL the child and reap it."""
    os.killpg(child.process.pid, signal.SIGKILL)
    child.process.wait()
    log.info("step=kill child=%s pid=%d", child.name, child.process.pid)


def stop(child: Child, timeout_s: float = 30.0) -> None:
    """SIGTERM the child and wait for it to exit; ``FaultError`` if it does not exit cleanly."""
    child.process.terminate()
    code = child.process.wait(timeout_s)
    log.info("step=stop child=%s status=%d", child.name, code)
    if code != 0:
        raise FaultError(f"{child.name} exited {code} on SIGTERM: see {child.log_path}")


def wait_for(ready: Callable[[], bool], what: str, timeout_s: float) -> None:
    """Poll ``ready`` until true; ``FaultError`` naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise FaultError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.05)


def wait_for_log(child: Child, text: str, timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait until ``text`` is in the child's log; ``FaultError`` if it exits or times out."""

    def logged() -> bool:
        if child.process.poll() is not None:
            raise FaultError(f"{child.name} exited: see {child.log_path}")
        return text in child.log_path.read_text(encoding="utf-8", errors="replace")

    wait_for(logged, f"{child.name} logging {text!r}", timeout_s)


def outbox_integrity(spec: DeviceSpec) -> str:
    """SQLite's ``PRAGMA integrity_check`` answer for the device's outbox (``ok`` when sound)."""
    with closing(sqlite3.connect(spec.outbox)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
