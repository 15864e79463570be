"""Editing residents and visitors: partial updates, masking, roles, audit, gallery effects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from central.db.auth_models import AuditEntry
from central.db.events_models import GalleryVersion
from central.registry.queries import compound_gallery
from tests.central.api.conftest import Central
from tests.central.api.world import ADULT_ID, World, bearer, latest_gallery_change, post

PHONE = "13987654321"


def _resident(central: Central, world: World) -> dict[str, Any]:
    body = {"household_id": world.ids["a"]["household_id"], "name": "Li Lei"}
    return post(central.client, world.tokens["operator_a"], "/api/residents", body)


def _visitor(central: Central, world: World, hours: int = 4) -> dict[str, Any]:
    start = datetime.now(UTC)
    body = {
        "host_resident_id": world.ids["a"]["resident_id"],
        "name": "guest",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=hours)).isoformat(),
    }
    return post(central.client, world.tokens["operator_a"], "/api/visitors", body)


def _patch(central: Central, world: World, path: str, body: Any, user: str = "operator_a") -> Any:
    return central.client.patch(path, json=body, headers=bearer(world.tokens[user]))


def _audit(central: Central, target: str) -> list[tuple[str, dict[str, Any]]]:
    with central.sessions() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id)
        )
        return [(row.action, row.detail) for row in rows]


def _versions(central: Central, compound_id: str) -> int:
    with central.sessions() as session:
        query = select(GalleryVersion).where(GalleryVersion.compound_id == compound_id)
        return len(session.scalars(query).all())


def test_resident_edit_masks_numbers_and_audits_field_names(central: Central, world: World) -> None:
    resident = _resident(central, world)["id"]
    body = {"name": "Li Lei (new)", "id_number": ADULT_ID, "phone": PHONE}
    reply = _patch(central, world, f"/api/residents/{resident}", body)
    assert reply.status_code == 200, reply.text
    edited = reply.json()
    assert edited["name"] == "Li Lei (new)"
    assert edited["id_number_masked"] == "110***********002X"
    assert edited["phone_masked"] == "139****4321"
    assert edited["birth_date"] == "1949-12-31"
    assert ADULT_ID not in reply.text and PHONE not in reply.text
    entries = _audit(central, resident)
    fields = ["birth_date", "id_number_hash", "id_number_masked", "name", "phone_masked"]
    assert entries[-1] == ("resident.update", {"fields": fields})
    assert ADULT_ID not in str(entries) and PHONE not in str(entries)
    cleared = _patch(central, world, f"/api/residents/{resident}", {"phone": None})
    assert cleared.json()["phone_masked"] is None
    assert cleared.json()["id_number_masked"] == "110***********002X"


def test_an_unchanged_edit_writes_no_audit_entry(central: Central, world: World) -> None:
    resident = _resident(central, world)
    before = _audit(central, resident["id"])
    for body in ({}, {"name": resident["name"]}):
        reply = _patch(central, world, f"/api/residents/{resident['id']}", body)
        assert reply.status_code == 200
    assert _audit(central, resident["id"]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"name": ""},
        {"household_id": None},
        {"id_number": "110105194912310021"},
        {"phone": "12"},
        {"compound_id": "x"},
        {"moved_out_at": None},
        {"moved_out_at": "2030-01-01T00:00:00"},
        {"moved_out_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    ],
)
def test_bad_resident_edits_are_refused(
    central: Central, world: World, body: dict[str, Any]
) -> None:
    resident = world.ids["a"]["resident_id"]
    assert _patch(central, world, f"/api/residents/{resident}", body).status_code == 422


@pytest.mark.parametrize(("user", "expected"), [("viewer_a", 403), ("auditor_a", 403)])
def test_read_only_roles_cannot_edit(
    central: Central, world: World, user: str, expected: int
) -> None:
    a = world.ids["a"]
    assert _patch(central, world, f"/api/residents/{a['resident_id']}", {}, user).status_code == (
        expected
    )
    assert _patch(central, world, f"/api/visitors/{a['visitor_id']}", {}, user).status_code == (
        expected
    )


def test_household_moves_stay_within_the_compound(central: Central, world: World) -> None:
    resident = _resident(central, world)["id"]
    household = post(
        central.client,
        world.tokens["operator_a"],
        "/api/households",
        {"compound_id": world.ids["a"]["compound_id"], "label": "2-202"},
    )["id"]
    moved = _patch(central, world, f"/api/residents/{resident}", {"household_id": household})
    assert moved.json()["household_id"] == household
    foreign = {"household_id": world.ids["b"]["household_id"]}
    assert _patch(central, world, f"/api/residents/{resident}", foreign).status_code == 404
    across = _patch(central, world, f"/api/residents/{resident}", foreign, user="root")
    assert across.status_code == 422 and "another compound" in across.text


def test_a_move_out_date_moves_the_resident_out_everywhere(central: Central, world: World) -> None:
    resident = _resident(central, world)["id"]
    left = datetime(2026, 1, 31, 18, 0, tzinfo=UTC)
    reply = _patch(central, world, f"/api/residents/{resident}", {"moved_out_at": left.isoformat()})
    assert reply.status_code == 200, reply.text
    assert datetime.fromisoformat(reply.json()["moved_out_at"]) == left
    assert latest_gallery_change(central.sessions, world.ids["a"]["compound_id"]) == (
        [],
        [resident],
    )
    actions = [action for action, _ in _audit(central, resident)]
    assert actions[-3:] == ["resident.move_out", "template.delete", "resident.update"]
    again = _patch(central, world, f"/api/residents/{resident}", {"name": "x"})
    assert again.status_code == 409


def test_a_visitor_window_change_reaches_the_gates(central: Central, world: World) -> None:
    visitor = _visitor(central, world)
    compound = world.ids["a"]["compound_id"]
    headers = bearer(world.tokens["operator_a"])
    card = {"method": "card", "value": "04A1B2C3"}
    path = f"/api/persons/{visitor['id']}/credentials"
    assert central.client.post(path, json=card, headers=headers).status_code == 201
    until = datetime.fromisoformat(visitor["valid_from"]) + timedelta(days=2)
    body = {"valid_until": until.isoformat(), "gate_ids": [world.ids["a"]["gate_id"]]}
    before = _versions(central, compound)
    reply = _patch(central, world, f"/api/visitors/{visitor['id']}", body)
    assert reply.status_code == 200, reply.text
    assert _versions(central, compound) == before + 1
    assert latest_gallery_change(central.sessions, compound) == ([visitor["id"]], [])
    with central.sessions() as session:
        sources = {source.person_id: source for source in compound_gallery(session, compound)}
    assert sources[visitor["id"]].valid_until == until
    assert sources[visitor["id"]].gate_ids == (world.ids["a"]["gate_id"],)
    assert _audit(central, visitor["id"])[-1] == (
        "visitor.update",
        {"fields": ["gate_ids", "valid_until"]},
    )


def test_visitor_details_change_without_a_gallery_version(central: Central, world: World) -> None:
    visitor = _visitor(central, world)["id"]
    compound = world.ids["a"]["compound_id"]
    before = _versions(central, compound)
    body = {"name": "guest (new)", "phone": PHONE, "birth_date": "1980-02-02"}
    reply = _patch(central, world, f"/api/visitors/{visitor}", body)
    assert reply.json()["phone_masked"] == "139****4321" and PHONE not in reply.text
    assert _versions(central, compound) == before


@pytest.mark.parametrize(
    "body",
    [
        {"valid_until": "2000-01-01T00:00:00Z"},
        {"valid_until": (datetime.now(UTC) + timedelta(days=40)).isoformat()},
        {"gate_ids": ["no-such-gate"]},
        {"gate_ids": None},
        {"name": None},
        {"revoked_at": "2030-01-01T00:00:00Z"},
    ],
)
def test_bad_visitor_edits_are_refused(
    central: Central, world: World, body: dict[str, Any]
) -> None:
    visitor = world.ids["a"]["visitor_id"]
    assert _patch(central, world, f"/api/visitors/{visitor}", body).status_code == 422


def test_a_visitor_moves_only_to_a_current_host_of_the_compound(
    central: Central, world: World
) -> None:
    visitor = _visitor(central, world)["id"]
    host = _resident(central, world)["id"]
    moved = _patch(central, world, f"/api/visitors/{visitor}", {"host_resident_id": host})
    assert moved.json()["host_resident_id"] == host
    headers = bearer(world.tokens["operator_a"])
    assert central.client.post(f"/api/residents/{host}/move-out", headers=headers).is_success
    gone = _patch(central, world, f"/api/visitors/{visitor}", {"host_resident_id": host})
    assert gone.status_code == 422 and "moved out" in gone.text
    foreign = {"host_resident_id": world.ids["b"]["resident_id"]}
    assert _patch(central, world, f"/api/visitors/{visitor}", foreign, "root").status_code == 422


def test_a_revoked_visitor_cannot_be_edited(central: Central, world: World) -> None:
    visitor = _visitor(central, world)["id"]
    headers = bearer(world.tokens["operator_a"])
    assert central.client.post(f"/api/visitors/{visitor}/revoke", headers=headers).is_success
    reply = _patch(central, world, f"/api/visitors/{visitor}", {"birth_date": str(date.today())})
    assert reply.status_code == 409


def _consent(central: Central, world: World, person: str, **fields: Any) -> None:
    body = {
        "purpose": "gate access",
        "retention_days": 365,
        "notice_version": "2026-01",
        "method": "paper",
        "given_at": "2026-01-05T09:00:00Z",
        **fields,
    }
    path = f"/api/persons/{person}/consent"
    reply = central.client.post(path, json=body, headers=bearer(world.tokens["operator_a"]))
    assert reply.status_code == 201, reply.text


CHILD = "2020-01-01"


def test_a_birth_date_the_consent_does_not_cover_is_refused(central: Central, world: World) -> None:
    resident = _resident(central, world)["id"]
    path = f"/api/residents/{resident}"
    assert _patch(central, world, path, {"id_number": ADULT_ID}).status_code == 200
    _consent(central, world, resident)  # an adult's own consent, no guardian
    for body in ({"birth_date": CHILD}, {"birth_date": None}):
        reply = _patch(central, world, path, body)
        assert reply.status_code == 409, reply.text
    assert _patch(central, world, path, {"birth_date": "1980-02-03"}).status_code == 200
    guardian = {"guardian_name": "Li Ming", "guardian_consent": True}
    _consent(central, world, resident, given_at="2026-02-01T09:00:00Z", **guardian)
    child = _patch(central, world, path, {"birth_date": CHILD})
    assert child.status_code == 200, child.text
    assert child.json()["birth_date"] == CHILD


def test_without_a_consent_on_record_the_birth_date_is_free(central: Central, world: World) -> None:
    visitor = _visitor(central, world)["id"]
    reply = _patch(central, world, f"/api/visitors/{visitor}", {"birth_date": CHILD})
    assert reply.status_code == 200, reply.text
