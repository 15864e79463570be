"""An API client over the test database with users of each role in two scopes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from central.api.app import build_context, create_app
from central.core.settings import CentralSettings
from central.db.auth_models import User
from central.db.base import utcnow
from central.db.registry_models import Compound, HierarchyNode
from central.gallery.distribution import record_gallery_change
from central.security.passwords import hash_password
from central.security.tokens import issue_token

# username: (role, scope node)
USERS = {
    "admin1": ("admin", "n1"),
    "op1": ("operator", "n1"),
    "viewer1": ("viewer", "n1"),
    "auditor1": ("auditor", "n1"),
    "op2": ("operator", "n2"),
}


@dataclass
class Api:
    """The app, its client, and a bearer header per user (None: anonymous)."""

    app: FastAPI
    client: TestClient
    tokens: dict[str, str]

    def headers(self, username: str | None) -> dict[str, str]:
        """Authorization header of ``username``."""
        return {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}


@cache
def _password_hash() -> str:
    return hash_password("not-used-here")


def build_api(folder: Path, db_url: str, sessions: sessionmaker[Session]) -> Api:
    """The app over ``sessions``, with a second community ``n2`` holding compound ``c2``."""
    settings = CentralSettings(
        database_url=db_url,
        signing_key_file=folder / "signing.key",
        at_rest_key_file=folder / "at-rest.key",
        jwt_secret_file=folder / "jwt.secret",
    )
    context = build_context(settings, record_gallery_change, sessions)
    password = _password_hash()
    with sessions() as session, session.begin():
        session.add(HierarchyNode(id="n2", name="Grid 2", level="community", path="/n2/"))
        session.flush()
        session.add(Compound(id="c2", name="Other", community_id="n2"))
        for username, (role, node) in USERS.items():
            session.add(
                User(username=username, password_hash=password, role=role, scope_node_id=node)
            )
    tokens = {name: issue_token(context.secrets.jwt_secret, name, utcnow(), 15) for name in USERS}
    app = create_app(settings, context)
    return Api(app, TestClient(app), tokens)
