"""A secured deployment as real processes: Mosquitto running the file ``anju central broker-config``
renders (with central's password and ACL files for the registered devices) and ``anju central
serve`` (API, /metrics, ingest, gallery publishing) over a migrated SQLite database holding the
ingest tests' world, with one resident enrolled by a given face template."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from central.core.secrets import load_secrets
from central.core.settings import load_settings
from central.db.migrate import upgrade
from central.db.models import Base
from central.db.session import make_engine, make_session_factory
from central.registry.queries import gallery_key
from edge.contract.signing import b64url
from scripts.demo.procs import Child, Children
from scripts.faults.stack import wait_for_log
from tests.central.ingest.helpers import AT_REST_KEY, World, build_world, enrol, password_of
from tests.central.ingest.mqtt_helpers import CENTRAL_USER, broker_config, write_auth_files
from tests.support.services import free_port, run_as_line, wait_for_port

ANJU = [sys.executable, "-m", "anju.cli", "--log-level", "info"]
LOG_EVERY_PACKET = "log_type all\n"
"""Appended to the generated file: only the log's verbosity, so the tests can read from the
broker's own log what each client published and what the ACL denied."""


@dataclass(frozen=True)
class System:
    """The running deployment: where it listens, its database and the world registered in it."""

    folder: Path
    mqtt_port: int
    api_url: str
    broker_log: Path
    sessions: sessionmaker[Session]
    world: World
    central_key: Ed25519PrivateKey
    gallery_key: bytes

    def metrics(self) -> str:
        """Central's /metrics text."""
        reply = httpx.get(f"{self.api_url}/metrics", timeout=10)
        reply.raise_for_status()
        return reply.text


def write_central_config(folder: Path, mqtt_port: int) -> Path:
    """Central's YAML: SQLite in ``folder``, central's broker account, secrets made now (the
    at-rest key is the one the world's sealed rows were made with)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "at-rest.key").write_text(b64url(AT_REST_KEY) + "\n", encoding="ascii")
    (folder / "mqtt.password").write_text(password_of(CENTRAL_USER), encoding="utf-8")
    section = {
        "database_url": f"sqlite:///{folder / 'central.db'}",
        "signing_key_file": str(folder / "signing.key"),
        "at_rest_key_file": str(folder / "at-rest.key"),
        "jwt_secret_file": str(folder / "jwt.secret"),
        "mqtt": {
            "port": mqtt_port,
            "username": CENTRAL_USER,
            "password_file": str(folder / "mqtt.password"),
            "client_id": "central-system",
        },
    }
    path = folder / "central.yaml"
    path.write_text(yaml.safe_dump({"central": section}), encoding="utf-8")
    return path


def render_broker_config(folder: Path, port: int) -> Path:
    """``anju central broker-config`` run as a process on a ``broker`` section for ``folder``."""
    auth = broker_config(folder)
    section = {
        "port": port,
        "bind_address": "127.0.0.1",
        "password_file": str(auth.password_file),
        "acl_file": str(auth.acl_file),
        "persistence_location": str(folder),
        "log_dest": f"file {folder / 'mosquitto.log'}",
    }
    source = folder / "broker.yaml"
    source.write_text(yaml.safe_dump({"broker": section}), encoding="utf-8")
    output = folder / "mosquitto.conf"
    command = [*ANJU, "central", "broker-config", "--config", str(source), "--output", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rendered = output.read_text(encoding="utf-8")
    output.write_text(rendered + LOG_EVERY_PACKET + run_as_line(rendered), encoding="utf-8")
    return output


def start_central(children: Children, config: Path, port: int) -> Child:
    """``anju central serve`` with ingest, waited for until it subscribed and answers HTTP."""
    command = [*ANJU, "central", "serve", "--config", str(config), "--port", str(port)]
    child = children.start("central", command)
    wait_for_log(child, "ingest subscribed", timeout_s=120)
    wait_for_port(port, timeout_s=60)
    return child


@contextmanager
def secured_system(folder: Path, resident_template: np.ndarray) -> Iterator[System]:
    """Everything started; stopped (central first, then the broker) afterwards."""
    mqtt_port, api_port = free_port(), free_port()
    config = write_central_config(folder / "central", mqtt_port)
    settings = load_settings(config)
    secrets = load_secrets(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine, AT_REST_KEY)
    world = build_world(sessions)
    enrol(sessions, world.resident_id, "resident", 0, resident_template)
    with sessions() as session, session.begin():
        shared_gallery_key = gallery_key(session, world.compound_id)
    broker_folder = folder / "broker"
    broker_folder.mkdir(parents=True, exist_ok=True)
    write_auth_files(broker_config(broker_folder), sessions)
    broker_conf = render_broker_config(broker_folder, mqtt_port)
    children = Children(folder / "logs")
    try:
        children.start("mosquitto", ["mosquitto", "-c", str(broker_conf)])
        wait_for_port(mqtt_port)
        start_central(children, config, api_port)
        yield System(
            folder=folder,
            mqtt_port=mqtt_port,
            api_url=f"http://127.0.0.1:{api_port}",
            broker_log=broker_folder / "mosquitto.log",
            sessions=sessions,
            world=world,
            central_key=secrets.signing_key,
            gallery_key=shared_gallery_key,
        )
    finally:
        children.stop_all()
        engine.dispose()
