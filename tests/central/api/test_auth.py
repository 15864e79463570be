"""Login, token expiry, login rate limit, roles."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from central.core.secrets import load_secrets
from central.db.auth_models import AuditEntry, User
from central.db.base import utcnow
from central.security.tokens import issue_token
from tests.central.api.conftest import Central
from tests.central.api.world import PASSWORD, World, bearer, login


def test_login_issues_a_working_short_lived_token(central: Central, world: World) -> None:
    reply = central.client.post(
        "/api/auth/token", data={"username": "viewer_a", "password": PASSWORD}
    )
    assert reply.status_code == 200
    assert reply.json()["expires_in"] == central.settings.access_token_minutes * 60
    me = central.client.get("/api/auth/me", headers=bearer(reply.json()["access_token"]))
    assert me.json()["role"] == "viewer"
    assert me.json()["sites"] == sorted(
        [world.ids["a"]["compound_id"], world.ids["a"]["outlet_id"]]
    )


def test_wrong_password_and_unknown_user_are_refused_and_audited(central: Central) -> None:
    for username in ("viewer_a", "nobody"):
        reply = central.client.post(
            "/api/auth/token", data={"username": username, "password": "wrong password!"}
        )
        assert reply.status_code == 401
    with central.sessions() as session:
        failed = session.scalars(
            select(AuditEntry.target).where(AuditEntry.action == "auth.login_failed")
        ).all()
    assert {"viewer_a", "nobody"} <= set(failed)


def test_expired_token_is_refused(central: Central, world: World) -> None:
    secret = load_secrets(central.settings).jwt_secret
    stale = issue_token(secret, "admin_a", utcnow() - timedelta(minutes=16), 15)
    fresh = issue_token(secret, "admin_a", utcnow(), 15)
    assert central.client.get("/api/auth/me", headers=bearer(stale)).status_code == 401
    assert central.client.get("/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_token_signed_with_another_secret_is_refused(central: Central, world: World) -> None:
    forged = issue_token(b"x" * 32, "root", utcnow(), 15)
    assert central.client.get("/api/auth/me", headers=bearer(forged)).status_code == 401


def test_login_rate_limit_per_username(central: Central, world: World) -> None:
    user = "auditor_a"
    limit = central.settings.login_failures_per_minute
    codes = [
        central.client.post(
            "/api/auth/token", data={"username": user, "password": "guess number x"}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert codes == [401] * limit + [429]
    right = central.client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    assert right.status_code == 429
    assert login(central.client, "viewer_a")


def test_deactivated_user_loses_access(central: Central, world: World) -> None:
    token = login(central.client, "operator_b")
    with central.sessions() as session:
        session.execute(update(User).where(User.username == "operator_b").values(active=False))
        session.commit()
    assert central.client.get("/api/auth/me", headers=bearer(token)).status_code == 401


def test_roles_limit_writes(central: Central, world: World) -> None:
    body = {"compound_id": world.ids["a"]["compound_id"], "label": "2-202"}
    for user, expected in (("viewer_a", 403), ("auditor_a", 403), ("operator_a", 201)):
        reply = central.client.post(
            "/api/households", json=body, headers=bearer(world.tokens[user])
        )
        assert reply.status_code == expected, user
    device = {"kind": "gate", "gate_id": world.ids["a"]["gate_id"]}
    reply = central.client.post(
        "/api/devices", json=device, headers=bearer(world.tokens["operator_a"])
    )
    assert reply.status_code == 403
    audit = central.client.get("/api/audit", headers=bearer(world.tokens["viewer_a"]))
    assert audit.status_code == 403


def test_extra_fields_are_refused(central: Central, world: World) -> None:
    body = {"compound_id": world.ids["a"]["compound_id"], "label": "x", "owner": "me"}
    reply = central.client.post(
        "/api/households", json=body, headers=bearer(world.tokens["admin_a"])
    )
    assert reply.status_code == 422
    assert "owner" in reply.text
