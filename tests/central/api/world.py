"""A populated central for API tests: two communities (a, b), each with a compound and objects."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.auth_models import User
from central.db.base import utcnow
from central.db.events_models import Alarm, GalleryVersion
from central.registry.nodes import add_node
from central.security.passwords import hash_password
from central.security.tokens import issue_token

PASSWORD = "correct horse battery"
ADULT_ID = "11010519491231002X"
CHILD_ID = "110105201601010014"
TOKEN_MINUTES = 60
SIDE_IDS = {"a": "310101198506151238", "b": "440305199001014561"}


def bearer(token: str) -> dict[str, str]:
    """Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """An access token for ``username``."""
    reply = client.post("/api/auth/token", data={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


def post(client: TestClient, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as JSON, asserting 201; the created object."""
    reply = client.post(path, json=body, headers=bearer(token))
    assert reply.status_code == 201, f"{path}: {reply.status_code} {reply.text}"
    created: dict[str, Any] = reply.json()
    return created


@dataclass
class World:
    """Object ids per side and tokens per user (``root`` sees both sides)."""

    ids: dict[str, dict[str, str]]
    tokens: dict[str, str]
    secrets: dict[str, dict[str, Any]]


def add_alarm(sessions: sessionmaker[Session], compound_id: str) -> int:
    """An active alarm at the compound (as the rules would raise); its id."""
    now = utcnow()
    with sessions() as session:
        alarm = Alarm(
            type="unknown_face",
            level="warning",
            site_id=compound_id,
            subject=f"{compound_id}/x",
            first_seen=now,
            last_seen=now,
        )
        session.add(alarm)
        session.commit()
        return alarm.id


def bootstrap_root(sessions: sessionmaker[Session]) -> str:
    """A city node and a root admin; the node id."""
    with sessions() as session:
        city = add_node(session, "Shanghai", "city", None)
        session.commit()
    add_user(sessions, "root", "admin", city.id)
    return city.id


def _side(
    client: TestClient, sessions: sessionmaker[Session], token: str, side: str, community: str
) -> tuple[dict[str, str], Any]:
    compound = post(
        client, token, "/api/compounds", {"name": f"compound {side}", "community_id": community}
    )
    cid = compound["id"]
    gate = post(client, token, f"/api/compounds/{cid}/gates", {"name": "north"})
    outlet = post(
        client, token, "/api/outlets", {"name": f"outlet {side}", "community_id": community}
    )
    parcel = post(
        client, token, f"/api/outlets/{outlet['id']}/parcels", {"waybill_number": f"SF0001{side}"}
    )
    household = post(client, token, "/api/households", {"compound_id": cid, "label": "1-101"})
    resident = post(
        client,
        token,
        "/api/residents",
        {
            "household_id": household["id"],
            "name": f"resident {side}",
            "id_number": SIDE_IDS[side],
            "phone": "13812345678",
        },
    )
    now = datetime.now(UTC)
    visitor = post(
        client,
        token,
        "/api/visitors",
        {
            "host_resident_id": resident["id"],
            "name": f"visitor {side}",
            "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(days=1)).isoformat(),
        },
    )
    device = post(client, token, "/api/devices", {"kind": "gate", "gate_id": gate["id"]})
    alarm = add_alarm(sessions, cid)
    ids = {
        "node_id": community,
        "compound_id": cid,
        "gate_id": gate["id"],
        "outlet_id": outlet["id"],
        "parcel_id": parcel["id"],
        "household_id": household["id"],
        "resident_id": resident["id"],
        "person_id": resident["id"],
        "visitor_id": visitor["id"],
        "device_id": device["device"]["id"],
        "alarm_id": str(alarm),
    }
    return ids, device


@functools.cache
def password_hash() -> str:
    """One argon2 hash of ``PASSWORD`` shared by the world's users (hashing is slow here)."""
    return hash_password(PASSWORD)


def add_user(sessions: sessionmaker[Session], username: str, role: str, node_id: str) -> None:
    """A user with ``PASSWORD``, inserted directly (the API's user creation has its own tests)."""
    with sessions() as session:
        session.add(
            User(username=username, password_hash=password_hash(), role=role, scope_node_id=node_id)
        )
        session.commit()


def build_world(client: TestClient, sessions: sessionmaker[Session], jwt_secret: bytes) -> World:
    """Hierarchy city → district → street → communities a and b, users, and each side's objects."""
    city = bootstrap_root(sessions)
    root = login(client, "root")
    district = post(
        client, root, "/api/nodes", {"name": "Xuhui", "level": "district", "parent_id": city}
    )
    street = post(
        client,
        root,
        "/api/nodes",
        {"name": "Tianping", "level": "street", "parent_id": district["id"]},
    )
    ids, secrets, tokens = {}, {}, {"root": root}
    for side in ("a", "b"):
        node = post(
            client,
            root,
            "/api/nodes",
            {"name": f"community {side}", "level": "community", "parent_id": street["id"]},
        )
        ids[side], secrets[side] = _side(client, sessions, root, side, node["id"])
        for role in ("admin", "operator", "auditor", "viewer"):
            name = f"{role}_{side}"
            add_user(sessions, name, role, node["id"])
            tokens[name] = issue_token(jwt_secret, name, utcnow(), TOKEN_MINUTES)
    return World(ids, tokens, secrets)


def latest_gallery_change(
    sessions: sessionmaker[Session], compound_id: str
) -> tuple[list[str], list[str]]:
    """(changed, deleted) of the compound's newest gallery version."""
    with sessions() as session:
        newest = session.scalars(
            select(GalleryVersion)
            .where(GalleryVersion.compound_id == compound_id)
            .order_by(GalleryVersion.version.desc())
        ).first()
        assert newest is not None, "no gallery change recorded"
        return list(newest.changed), list(newest.deleted)
