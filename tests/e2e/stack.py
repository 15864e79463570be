"""The system under test: a migrated SQLite central with two streets, served by uvicorn in a
thread with the ingest runtime on a private Mosquitto, and devices that publish signed events."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
import paho.mqtt.client as mqtt
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from central.alarms.lifecycle import raise_alarm
from central.db.auth_models import User
from central.db.base import utcnow
from central.db.registry_models import Compound, Gate, Household, Outlet, Resident, Visitor
from central.registry.nodes import add_node
from central.rules.correlate import AlarmTrigger
from central.security.passwords import hash_password
from central.web.evidence import EvidenceSource
from edge.contract import Envelope, EventPayload, event_topic, load_private_key
from edge.node.evidence import EvidenceConfig, EvidenceStore
from edge.node.server import EvidenceServer

PASSWORD = "correct horse battery"
START_TIMEOUT_S = 20.0


@dataclass
class Places:
    """Ids of what the world holds: street 1 (compound a, outlet a), street 2 (compound b)."""

    ids: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _user(session: Session, username: str, role: str, node_id: str, password_hash: str) -> None:
    session.add(
        User(username=username, password_hash=password_hash, role=role, scope_node_id=node_id)
    )


def build_places(sessions: sessionmaker[Session]) -> Places:
    """City → district → streets 1 and 2, a community each; users root, op1 (street 1), op2."""
    places = Places()
    names = {"compound_a": "翠苑一区", "compound_b": "枫林二村", "outlet_a": "天平路驿站"}
    places.names.update(names)
    password_hash = hash_password(PASSWORD)
    with sessions() as session, session.begin():
        city = add_node(session, "上海市", "city", None)
        district = add_node(session, "徐汇区", "district", city)
        for side in ("a", "b"):
            street = add_node(session, f"街道{side.upper()}", "street", district)
            community = add_node(session, f"社区{side.upper()}", "community", street)
            compound = Compound(name=names[f"compound_{side}"], community_id=community.id)
            session.add(compound)
            session.flush()
            gate = Gate(compound_id=compound.id, name="北门")
            household = Household(compound_id=compound.id, label="1-101")
            session.add_all([gate, household])
            session.flush()
            places.ids |= {f"street_{side}": street.id, f"compound_{side}": compound.id}
            places.ids |= {f"gate_{side}": gate.id, f"household_{side}": household.id}
            _user(session, f"op{side}", "operator", street.id, password_hash)
            _user(session, f"view{side}", "viewer", street.id, password_hash)
        outlet = Outlet(name=names["outlet_a"], community_id=community_of(session, places, "a"))
        resident = Resident(
            household_id=places.ids["household_a"],
            compound_id=places.ids["compound_a"],
            name="张三",
            birth_date=date(1980, 5, 1),
        )
        session.add_all([outlet, resident])
        _user(session, "root", "admin", city.id, password_hash)
        session.flush()
        now = utcnow()
        visitor = Visitor(
            compound_id=places.ids["compound_a"],
            host_resident_id=resident.id,
            name="李四",
            valid_from=now,
            valid_until=now + timedelta(hours=4),
        )
        session.add(visitor)
        places.ids |= {"outlet_a": outlet.id, "resident_a": resident.id}
        trigger = AlarmTrigger("denial_burst", "critical", places.ids["compound_b"], "b", utcnow())
        raise_alarm(session, trigger)
    return places


def community_of(session: Session, places: Places, side: str) -> str:
    """The community id of compound ``side``."""
    compound = session.get(Compound, places.ids[f"compound_{side}"])
    assert compound is not None
    return compound.community_id


class ServerThread:
    """uvicorn serving ``app`` on ``port`` in a daemon thread."""

    def __init__(self, app: FastAPI, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="e2e-uvicorn", daemon=True)

    def start(self) -> None:
        """Start serving and wait until the server accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        """Ask the server to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT_S)


@dataclass
class Device:
    """A provisioned device: its id, site and private key."""

    id: str
    site_id: str
    key: Ed25519PrivateKey


def provision(base: str, token: str, body: dict[str, str]) -> Device:
    """Provision a device through the API (the credentials come back once)."""
    reply = httpx.post(
        f"{base}/api/devices", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 201, reply.text
    made = reply.json()
    return Device(
        made["device"]["id"], made["device"]["site_id"], load_private_key(made["private_key"])
    )


def api_token(base: str, username: str) -> str:
    """An access token for ``username``."""
    reply = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


def publish(port: int, device: Device, payloads: list[EventPayload]) -> None:
    """Sign each payload as ``device`` and publish it with QoS 1, waiting for the broker's acks."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = []
        for payload in payloads:
            envelope = Envelope(
                event_id=uuid.uuid4(),
                site_id=device.site_id,
                device_id=device.id,
                occurred_at=utcnow(),
                payload=payload,
            )
            topic = event_topic(device.id, envelope.kind)
            infos.append(client.publish(topic, envelope.signed_json(device.key), qos=1))
        for info in infos:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


@contextmanager
def evidence_node(folder: Path) -> Iterator[tuple[EvidenceSource, str]]:
    """A node's real evidence server holding one snapshot: its source entry and evidence id."""
    store = EvidenceStore(EvidenceConfig(folder=folder / "evidence"))
    snapshot = np.zeros((120, 160, 3), dtype=np.uint8)
    snapshot[30:90, 50:110] = (220, 60, 60)
    evidence_id = store.save(snapshot)
    assert evidence_id is not None
    token_file = folder / "evidence.token"
    token_file.write_text(secrets.token_urlsafe(24))
    server = EvidenceServer(store, token_file.read_text(), dict, ("127.0.0.1", 0))
    server.start()
    try:
        yield (
            EvidenceSource.model_validate(
                {"base_url": f"http://127.0.0.1:{server.port}", "token_file": token_file}
            ),
            evidence_id,
        )
    finally:
        server.stop()
