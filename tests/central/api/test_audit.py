"""The hash-chained audit log: intact after real traffic, broken by any tampering; the CLI."""

from __future__ import annotations

import argparse
import io
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, func, insert, select, update

from central.audit.log import verify_chain
from central.cli import register
from central.db.auth_models import AuditEntry
from tests.central.api.conftest import Central
from tests.central.api.world import PASSWORD, World, bearer


def run_cli(argv: list[str], stdin: str = "") -> int:
    """``anju <argv>`` with only the central commands registered; the exit status."""
    parser = argparse.ArgumentParser(prog="anju")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        status: int = args.handler(args)
    finally:
        sys.stdin = saved
    return status


@pytest.fixture(scope="module")
def config_path(central: Central) -> Path:
    """A YAML configuration pointing at the test database."""
    path = central.folder / "central.yaml"
    settings = central.settings.model_dump(mode="json", exclude={"face_engine"})
    path.write_text(yaml.safe_dump({"central": settings}))
    return path


def test_chain_holds_and_audit_reads_are_scoped(central: Central, world: World) -> None:
    with central.sessions() as session:
        report = verify_chain(session)
        rows = session.scalar(select(func.count()).select_from(AuditEntry))
    assert report.ok and report.rows == rows and rows > 15
    reply = central.client.get("/api/audit?limit=1000", headers=bearer(world.tokens["auditor_a"]))
    sites = {row["site_id"] for row in reply.json()}
    assert sites == {world.ids["a"]["compound_id"], world.ids["a"]["outlet_id"]}


def test_cli_creates_users_and_verifies(central: Central, world: World, config_path: Path) -> None:
    node = world.ids["a"]["node_id"]
    argv = ["central", "users", "create", "--config", str(config_path), "--username", "cli_op"]
    assert run_cli([*argv, "--role", "operator", "--scope-node", node], PASSWORD + "\n") == 0
    assert run_cli([*argv[:-1], "cli_short", "--role", "viewer", "--scope-node", node], "x\n") == 2
    reply = central.client.post(
        "/api/auth/token", data={"username": "cli_op", "password": PASSWORD}
    )
    assert reply.status_code == 200
    assert run_cli(["central", "audit", "verify", "--config", str(config_path)]) == 0


def test_tampering_is_detected(central: Central, world: World, config_path: Path) -> None:
    verify = ["central", "audit", "verify", "--config", str(config_path)]
    with central.sessions() as session:
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        victim = ids[len(ids) // 2]
        original = session.get(AuditEntry, victim)
        assert original is not None
        saved_actor = original.actor
        session.execute(update(AuditEntry).where(AuditEntry.id == victim).values(actor="mallory"))
        session.commit()
        report = verify_chain(session)
        assert not report.ok and report.broken_at == victim and "altered" in report.reason
        assert run_cli(verify) == 1
        session.execute(update(AuditEntry).where(AuditEntry.id == victim).values(actor=saved_actor))
        session.commit()
        assert verify_chain(session).ok
        removed = {
            column.key: getattr(original, column.key) for column in AuditEntry.__mapper__.columns
        }
        session.execute(delete(AuditEntry).where(AuditEntry.id == victim))
        session.commit()
        report = verify_chain(session)
        assert not report.ok and report.broken_at == ids[ids.index(victim) + 1]
        assert "removed" in report.reason
        session.execute(insert(AuditEntry).values(**removed))
        session.commit()
        assert verify_chain(session).ok


def test_concurrent_writers_keep_one_chain(central: Central, world: World) -> None:
    body = {"compound_id": world.ids["a"]["compound_id"], "label": "concurrent"}
    headers = bearer(world.tokens["operator_a"])

    def add(_: int) -> int:
        return central.client.post("/api/households", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(add, range(32)))
    assert codes == [201] * 32
    with central.sessions() as session:
        assert verify_chain(session).ok
