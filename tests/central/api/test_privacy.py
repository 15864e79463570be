"""Masking, consent before enrolment, the guardian rule, enrolment from a real photo, deletion."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from central.core.secrets import load_secrets
from central.db.auth_models import AuditEntry
from central.db.privacy_models import FaceTemplate
from central.registry.queries import compound_gallery, gallery_key
from central.registry.sealed import open_template
from edge.contract import credential_hash, verify_pass
from models.engine import FaceEngine
from models.images import load_image
from tests.central.api.conftest import Central
from tests.central.api.world import (
    ADULT_ID,
    CHILD_ID,
    World,
    bearer,
    latest_gallery_change,
    post,
)

CONSENT = {
    "purpose": "gate access",
    "retention_days": 365,
    "notice_version": "2026-01",
    "method": "paper",
    "given_at": "2026-01-05T09:00:00Z",
}


@pytest.fixture(scope="module")
def face_jpeg(t1_image_path: Path, engine: FaceEngine) -> bytes:
    """One face of the group photo, cropped with a margin, as JPEG."""
    faces = engine.analyze(load_image(t1_image_path))
    x0, y0, x1, y1 = faces[0].xyxy
    margin = 0.6 * (x1 - x0)
    with Image.open(t1_image_path) as photo:
        crop = photo.crop((int(x0 - margin), int(y0 - margin), int(x1 + margin), int(y1 + margin)))
        buffer = io.BytesIO()
        crop.convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _resident(central: Central, world: World, **fields: Any) -> dict[str, Any]:
    body = {"household_id": world.ids["a"]["household_id"], "name": "Li Lei", **fields}
    return post(central.client, world.tokens["operator_a"], "/api/residents", body)


def _enrol(central: Central, world: World, person: str, *photos: bytes) -> Any:
    files = [("photos", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    return central.client.post(
        f"/api/persons/{person}/enrol", files=files, headers=bearer(world.tokens["operator_a"])
    )


def _consent(central: Central, world: World, person: str, **fields: Any) -> Any:
    return central.client.post(
        f"/api/persons/{person}/consent",
        json={**CONSENT, **fields},
        headers=bearer(world.tokens["operator_a"]),
    )


def test_id_and_phone_numbers_are_masked(central: Central, world: World) -> None:
    resident = _resident(central, world, id_number=ADULT_ID, phone="13812345678")
    assert resident["id_number_masked"] == "110***********002X"
    assert resident["phone_masked"] == "138****5678"
    assert resident["birth_date"] == "1949-12-31"
    fetched = central.client.get(
        f"/api/residents/{resident['id']}", headers=bearer(world.tokens["viewer_a"])
    )
    assert ADULT_ID not in fetched.text and "13812345678" not in fetched.text


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [("11010519491231002X", 201), ("110105194912310021", 422), ("1101051949123", 422)],
)
def test_id_numbers_are_checked(
    central: Central, world: World, id_number: str, expected: int
) -> None:
    body = {"household_id": world.ids["a"]["household_id"], "name": "x", "id_number": id_number}
    reply = central.client.post(
        "/api/residents", json=body, headers=bearer(world.tokens["operator_a"])
    )
    assert reply.status_code == expected


def test_enrolment_without_consent_is_refused(
    central: Central, world: World, face_jpeg: bytes
) -> None:
    resident = _resident(central, world, id_number=ADULT_ID)
    reply = _enrol(central, world, resident["id"], face_jpeg)
    assert reply.status_code == 422
    assert "consent" in reply.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, 422),
        ({"guardian_consent": True}, 422),
        ({"guardian_consent": True, "guardian_name": "Han Meimei"}, 201),
    ],
)
def test_guardian_consent_is_required_under_14(
    central: Central, world: World, fields: dict[str, Any], expected: int
) -> None:
    child = _resident(central, world, id_number=CHILD_ID)
    reply = _consent(central, world, child["id"], **fields)
    assert reply.status_code == expected, reply.text


def test_consent_needs_a_known_age(central: Central, world: World) -> None:
    unknown = _resident(central, world)
    assert _consent(central, world, unknown["id"]).status_code == 422
    dated = _resident(central, world, birth_date="1990-05-01")
    assert _consent(central, world, dated["id"]).status_code == 201


def test_photos_without_exactly_one_face_are_refused(
    central: Central, world: World, t1_image_path: Path
) -> None:
    resident = _resident(central, world, id_number=ADULT_ID)
    assert _consent(central, world, resident["id"]).status_code == 201
    group = _enrol(central, world, resident["id"], t1_image_path.read_bytes())
    assert group.status_code == 422 and "found 6" in group.json()["detail"]
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), "gray").save(blank, "PNG")
    assert "found 0" in _enrol(central, world, resident["id"], blank.getvalue()).text
    garbage = _enrol(central, world, resident["id"], b"not an image")
    assert garbage.status_code == 422 and "readable" in garbage.json()["detail"]


def test_enrol_then_withdraw(
    central: Central, world: World, face_jpeg: bytes, t1_image_path: Path, engine: FaceEngine
) -> None:
    resident = _resident(central, world, id_number=ADULT_ID)
    person = resident["id"]
    compound = world.ids["a"]["compound_id"]
    assert _consent(central, world, person).status_code == 201
    reply = _enrol(central, world, person, face_jpeg, face_jpeg)
    assert reply.status_code == 201, reply.text
    assert [t["dimension"] for t in reply.json()] == [engine.dimension] * 2
    assert latest_gallery_change(central.sessions, compound) == ([person], [])
    assert not any(central.folder.joinpath("photos").glob("**/*")), "photos must not be kept"
    with central.sessions() as session:
        rows = session.scalars(select(FaceTemplate).where(FaceTemplate.person_id == person)).all()
        assert len(rows) == 2
        template = open_template(session, rows[0])
        expected = engine.analyze(load_image(t1_image_path))[0].template
        assert engine.is_same(engine.similarity(template, expected))
        assert np.float32(template[0]).tobytes() not in rows[0].sealed.encode()
        gallery = {source.person_id: source for source in compound_gallery(session, compound)}
        assert len(gallery[person].templates) == 2

    withdraw = central.client.post(
        f"/api/persons/{person}/consent/withdraw", headers=bearer(world.tokens["operator_a"])
    )
    assert withdraw.json() == {"templates_deleted": 2}
    assert latest_gallery_change(central.sessions, compound) == ([], [person])
    with central.sessions() as session:
        assert not session.scalars(
            select(FaceTemplate).where(FaceTemplate.person_id == person)
        ).all()
        assert person not in {s.person_id for s in compound_gallery(session, compound)}
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == person)
        ).all()
    assert {"consent.give", "template.create", "consent.withdraw", "template.delete"} <= set(
        actions
    )
    again = _enrol(central, world, person, face_jpeg)
    assert again.status_code == 422


def test_move_out_deletes_templates_everywhere(
    central: Central, world: World, face_jpeg: bytes
) -> None:
    person = _resident(central, world, id_number=ADULT_ID)["id"]
    assert _consent(central, world, person).status_code == 201
    assert _enrol(central, world, person, face_jpeg).status_code == 201
    headers = bearer(world.tokens["operator_a"])
    moved = central.client.post(f"/api/residents/{person}/move-out", headers=headers)
    assert moved.json() == {"templates_deleted": 1}
    compound = world.ids["a"]["compound_id"]
    assert latest_gallery_change(central.sessions, compound) == ([], [person])
    assert (
        central.client.post(f"/api/residents/{person}/move-out", headers=headers).status_code == 422
    )
    assert _enrol(central, world, person, face_jpeg).status_code == 422


def test_visitor_pass_verifies_with_centrals_key(central: Central, world: World) -> None:

    key = load_secrets(central.settings).signing_key.public_key()
    visitor = world.ids["a"]["visitor_id"]
    reply = central.client.get(
        f"/api/visitors/{visitor}/pass", headers=bearer(world.tokens["operator_a"])
    )
    grant = verify_pass(
        reply.json()["pass_text"],
        key,
        world.ids["a"]["compound_id"],
        world.ids["a"]["gate_id"],
        datetime.now(UTC) + timedelta(minutes=1),
    )
    assert grant.visitor_id == visitor


def test_cards_and_pins_are_kept_only_as_keyed_hashes(central: Central, world: World) -> None:
    person = _resident(central, world, id_number=ADULT_ID)["id"]
    compound = world.ids["a"]["compound_id"]
    headers = bearer(world.tokens["operator_a"])
    path = f"/api/persons/{person}/credentials"
    assert (
        central.client.post(
            path, json={"method": "pin", "value": "12ab"}, headers=headers
        ).status_code
        == 422
    )
    reply = central.client.post(path, json={"method": "card", "value": "04A1B2C3"}, headers=headers)
    assert reply.status_code == 201 and "04A1B2C3" not in reply.text
    assert latest_gallery_change(central.sessions, compound) == ([person], [])
    with central.sessions() as session:
        key = gallery_key(session, compound)
        sources = {source.person_id: source for source in compound_gallery(session, compound)}
    assert sources[person].card_hashes == [credential_hash(key, "card", "04A1B2C3")]
    assert sources[person].templates == []


def test_revoking_a_visitor_ends_pass_and_gallery(
    central: Central, world: World, face_jpeg: bytes
) -> None:
    now = datetime.now(UTC)
    headers = bearer(world.tokens["operator_a"])
    visitor = post(
        central.client,
        world.tokens["operator_a"],
        "/api/visitors",
        {
            "host_resident_id": world.ids["a"]["resident_id"],
            "name": "guest",
            "birth_date": "1980-02-02",
            "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(hours=4)).isoformat(),
        },
    )["id"]
    assert _consent(central, world, visitor).status_code == 201
    assert _enrol(central, world, visitor, face_jpeg).status_code == 201
    reply = central.client.post(f"/api/visitors/{visitor}/revoke", headers=headers)
    assert reply.json() == {"templates_deleted": 1}
    assert latest_gallery_change(central.sessions, world.ids["a"]["compound_id"]) == ([], [visitor])
    assert central.client.get(f"/api/visitors/{visitor}/pass", headers=headers).status_code == 409
    assert (
        central.client.post(f"/api/visitors/{visitor}/revoke", headers=headers).status_code == 422
    )
