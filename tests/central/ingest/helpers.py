"""Test helpers: a small registered world (compound, gates, devices with keys, people) and
messages signed by its devices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from central.db.models import Base
from central.db.privacy_models import ConsentRecord, FaceTemplate
from central.db.registry_models import (
    Compound,
    Device,
    Gate,
    HierarchyNode,
    Household,
    Resident,
    Visitor,
)
from central.db.session import make_engine
from central.devices.mosquitto_auth import mosquitto_password_hash
from central.gallery.distribution import record_gallery_change
from central.ingest.validate import Incoming
from central.registry.sealed import seal_template
from edge.contract import Envelope, EventPayload, event_topic, public_key_text, status_topic

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
AT_REST_KEY = bytes(range(32))


def password_of(username: str) -> str:
    """The MQTT password the tests give ``username``."""
    return f"{username}-secret"


@dataclass
class World:
    """A compound ``c1`` with gates ``east``/``west``, gate devices, a resident and a visitor."""

    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)
    compound_id: str = "c1"
    resident_id: str = "res-1"
    visitor_id: str = "vis-1"

    def message(
        self,
        device_id: str,
        payload: EventPayload,
        occurred_at: datetime = NOW,
        event_id: uuid.UUID | None = None,
        site_id: str | None = None,
    ) -> Incoming:
        """A message signed by the device, on the topic it would use."""
        envelope = Envelope(
            event_id=event_id or uuid.uuid4(),
            site_id=site_id or self.sites.get(device_id, self.compound_id),
            device_id=device_id,
            occurred_at=occurred_at,
            payload=payload,
        )
        key = self.keys.get(device_id) or Ed25519PrivateKey.generate()
        topic = (
            status_topic(device_id)
            if envelope.kind == "device.status"
            else event_topic(device_id, envelope.kind)
        )
        return Incoming(topic, envelope.signed_json(key))


def _add_device(
    session: Session, world: World, device_id: str, gate_id: str | None, active: bool = True
) -> None:
    key = Ed25519PrivateKey.generate()
    world.keys[device_id] = key
    kind = "gate" if gate_id else "outlet"
    site = world.compound_id if gate_id else "outlet-1"
    world.sites[device_id] = site
    session.add(
        Device(
            id=device_id,
            kind=kind,
            site_id=site,
            gate_id=gate_id,
            public_key=public_key_text(key.public_key()),
            mqtt_username=device_id,
            mqtt_password_hash=mosquitto_password_hash(password_of(device_id)),
            active=active,
        )
    )


def build_world(sessions: sessionmaker[Session]) -> World:
    """Register the world's rows and return it with the devices' private keys."""
    world = World()
    with sessions() as session, session.begin():
        session.add(HierarchyNode(id="n1", name="Grid 1", level="community", path="/n1/"))
        session.flush()
        session.add(Compound(id="c1", name="Garden", community_id="n1"))
        session.flush()
        session.add_all([Gate(id=g, compound_id="c1", name=g) for g in ("east", "west")])
        session.add(Household(id="h1", compound_id="c1", label="1-101"))
        session.flush()
        session.add(Resident(id=world.resident_id, household_id="h1", compound_id="c1", name="R"))
        session.flush()
        session.add(
            Visitor(
                id=world.visitor_id,
                compound_id="c1",
                host_resident_id=world.resident_id,
                name="V",
                valid_from=NOW - timedelta(hours=2),
                valid_until=NOW + timedelta(hours=2),
            )
        )
        session.flush()
        _add_device(session, world, "gate-e", "east")
        _add_device(session, world, "gate-w", "west")
        _add_device(session, world, "outlet-d", None)
        _add_device(session, world, "gate-retired", "west", active=False)
    return world


def enrol(
    sessions: sessionmaker[Session],
    person_id: str,
    person_kind: str,
    seed: int,
    vector: np.ndarray | None = None,
) -> np.ndarray:
    """Give ``person_id`` consent and one template (``vector``, else a random unit one);
    returns the template."""
    if vector is None:
        vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
        vector /= np.linalg.norm(vector)
    with sessions() as session, session.begin():
        session.add(
            ConsentRecord(
                person_id=person_id,
                person_kind=person_kind,
                compound_id="c1",
                purpose="gate access",
                retention_days=365,
                notice_version="1",
                method="written",
                given_at=NOW,
            )
        )
        template = FaceTemplate(
            person_id=person_id,
            person_kind=person_kind,
            compound_id="c1",
            pack="anju-open",
            embedder="fusion",
        )
        seal_template(session, template, vector)
        session.add(template)
        record_gallery_change(session, "c1", [person_id], [])
    return vector


def withdraw(sessions: sessionmaker[Session], person_id: str) -> None:
    """Withdraw the person's consent and record the deletion, as enrolment's withdrawal does."""
    with sessions() as session, session.begin():
        consent = session.scalars(
            select(ConsentRecord).where(ConsentRecord.person_id == person_id)
        ).one()
        consent.withdrawn_at = NOW
        record_gallery_change(session, "c1", [], [person_id])


class Sink:
    """Collects what would go to the live feed."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Record one item."""
        self.items.append((kind, data))


def count_rows(
    sessions: sessionmaker[Session], model: type[Base], *where: ColumnElement[bool]
) -> int:
    """Rows of ``model`` matching ``where``."""
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def empty_tables(url: str) -> None:
    """Empty every central table of the PostgreSQL database at ``url``."""
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
