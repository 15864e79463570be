"""Visitor QR passes are revoked at the gates when the visitor is revoked or their window or
gates change: the gallery version recording the change carries them, and so does every
snapshot until they expire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from central.core.secrets import load_secrets
from central.gallery.messages import TemplateFormat
from central.gallery.publisher import GalleryPublisher
from edge.contract import verify_pass
from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer, post


def _visitor(central: Central, world: World) -> str:
    start = datetime.now(UTC)
    body = {
        "host_resident_id": world.ids["a"]["resident_id"],
        "name": "guest",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=4)).isoformat(),
    }
    created = post(central.client, world.tokens["operator_a"], "/api/visitors", body)
    return str(created["id"])


def _pass_id(central: Central, world: World, visitor: str) -> str:
    headers = bearer(world.tokens["operator_a"])
    reply = central.client.get(f"/api/visitors/{visitor}/pass", headers=headers)
    assert reply.status_code == 200, reply.text
    key = load_secrets(central.settings).signing_key.public_key()
    soon = datetime.now(UTC) + timedelta(minutes=1)
    compound, gate = world.ids["a"]["compound_id"], world.ids["a"]["gate_id"]
    return verify_pass(reply.json()["pass_text"], key, compound, gate, soon).pass_id


def _published(central: Central) -> list[dict[str, Any]]:
    """The gallery messages central sends now (deltas, then the compound's snapshot)."""
    sent: list[dict[str, Any]] = []
    publisher = GalleryPublisher(
        central.sessions,
        lambda topic, payload, retain: sent.append(json.loads(payload)),
        load_secrets(central.settings).signing_key,
        TemplateFormat("anju-open", "fusion"),
    )
    publisher.publish_pending()
    return sent


def _revoked(message: dict[str, Any]) -> list[str]:
    return [revoked["pass_id"] for revoked in message["revoked_passes"]]


def test_passes_from_before_a_window_change_or_a_revocation_are_revoked(
    central: Central, world: World
) -> None:
    headers = bearer(world.tokens["operator_a"])
    visitor = _visitor(central, world)
    first = _pass_id(central, world, visitor)
    _published(central)  # what was pending before
    shorter = {"valid_until": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    edited = central.client.patch(f"/api/visitors/{visitor}", json=shorter, headers=headers)
    assert edited.status_code == 200, edited.text
    delta, snapshot = _published(central)
    assert (delta["kind"], _revoked(delta)) == ("gallery.delta", [first])
    assert (snapshot["kind"], _revoked(snapshot)) == ("gallery.snapshot", [first])

    second = _pass_id(central, world, visitor)  # carries the new window: in force
    renamed = central.client.patch(f"/api/visitors/{visitor}", json={"name": "x"}, headers=headers)
    assert renamed.status_code == 200 and _published(central) == []  # no gallery change
    revoked = central.client.post(f"/api/visitors/{visitor}/revoke", headers=headers)
    assert revoked.status_code == 200, revoked.text
    delta, snapshot = _published(central)
    assert _revoked(delta) == [second]
    assert sorted(_revoked(snapshot)) == sorted([first, second])
