"""Token refresh for control-room screens: a still-valid token buys a new one, audited."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select, update

from central.core.secrets import load_secrets
from central.db.auth_models import AuditEntry, User
from central.db.base import utcnow
from central.security.tokens import issue_token
from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer, login


def expiry(token: str) -> int:
    """The ``exp`` claim of ``token`` (read without checking: the server checks)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"])


def test_refresh_issues_a_later_token_for_the_same_user_and_audits(
    central: Central, world: World
) -> None:
    secret = load_secrets(central.settings).jwt_secret
    old = issue_token(secret, "viewer_a", utcnow() - timedelta(minutes=10), 15)
    reply = central.client.get("/api/auth/refresh", headers=bearer(old))
    assert reply.status_code == 200, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    new = reply.json()["access_token"]
    assert reply.json()["expires_in"] == central.settings.access_token_minutes * 60
    assert expiry(new) > expiry(old)
    me = central.client.get("/api/auth/me", headers=bearer(new)).json()
    assert (me["username"], me["role"]) == ("viewer_a", "viewer")
    assert me["sites"] == sorted([world.ids["a"]["compound_id"], world.ids["a"]["outlet_id"]])
    with central.sessions() as session:
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "auth.refresh")
        ).all()
    assert "viewer_a" in actors


def test_expired_forged_or_missing_tokens_cannot_refresh(central: Central, world: World) -> None:
    secret = load_secrets(central.settings).jwt_secret
    expired = issue_token(secret, "admin_a", utcnow() - timedelta(minutes=16), 15)
    forged = issue_token(b"y" * 32, "admin_a", utcnow(), 15)
    for headers in (bearer(expired), bearer(forged), {}):
        assert central.client.get("/api/auth/refresh", headers=headers).status_code == 401


def test_deactivated_user_cannot_refresh(central: Central, world: World) -> None:
    token = login(central.client, "auditor_b")
    assert central.client.get("/api/auth/refresh", headers=bearer(token)).status_code == 200
    with central.sessions() as session:
        session.execute(update(User).where(User.username == "auditor_b").values(active=False))
        session.commit()
    assert central.client.get("/api/auth/refresh", headers=bearer(token)).status_code == 401
