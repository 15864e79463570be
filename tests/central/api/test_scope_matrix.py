"""Every object route, from the app's own route table: same scope, other compound, anonymous."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.central.api.conftest import Central
from tests.central.api.world import PASSWORD, World, bearer

PUBLIC = {"/api/auth/token"}
STREAMS = {"/api/stream"}
ForeignBody = Callable[[dict[str, str]], dict[str, Any]]
# POST routes whose target is named in the body: a body pointing at the other side's objects.
BODY_TARGETS: dict[str, ForeignBody] = {
    "/api/nodes": lambda o: {"name": "x", "level": "street", "parent_id": o["node_id"]},
    "/api/compounds": lambda o: {"name": "x", "community_id": o["node_id"]},
    "/api/outlets": lambda o: {"name": "x", "community_id": o["node_id"]},
    "/api/households": lambda o: {"compound_id": o["compound_id"], "label": "9-9"},
    "/api/residents": lambda o: {"household_id": o["household_id"], "name": "x"},
    "/api/visitors": lambda o: {
        "host_resident_id": o["resident_id"],
        "name": "x",
        "valid_from": "2030-01-01T00:00:00Z",
        "valid_until": "2030-01-02T00:00:00Z",
    },
    "/api/devices": lambda o: {"kind": "gate", "gate_id": o["gate_id"]},
    "/api/users": lambda o: {
        "username": "intruder",
        "password": PASSWORD,
        "role": "admin",
        "scope_node_id": o["node_id"],
    },
}


def object_routes(central: Central) -> list[tuple[str, str]]:
    """(method, path) of every API operation but login, from the app's OpenAPI document."""
    paths = central.app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        if path.startswith("/api/") and path not in PUBLIC
        for method in sorted(operations)
    ]


def fill(path: str, ids: dict[str, str]) -> str:
    """``path`` with every ``{param}`` taken from ``ids`` (KeyError names an unknown param)."""
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_route_table_is_covered(central: Central, world: World) -> None:
    for method, path in object_routes(central):
        params = re.findall(r"\{(\w+)\}", path)
        assert all(p in world.ids["a"] for p in params), f"{path}: add its params to the world"
        if method == "POST" and not params:
            assert path in BODY_TARGETS, f"POST {path}: add a foreign body to BODY_TARGETS"
    assert len(object_routes(central)) >= 25


def test_anonymous_is_refused_everywhere(central: Central, world: World) -> None:
    for method, path in object_routes(central):
        reply = central.client.request(method, fill(path, world.ids["a"]))
        assert reply.status_code == 401, f"{method} {path}: {reply.status_code}"


def test_expired_or_forged_tokens_are_refused(central: Central, world: World) -> None:
    forged = world.tokens["admin_a"][:-2] + "xx"
    for method, path in object_routes(central):
        reply = central.client.request(method, fill(path, world.ids["a"]), headers=bearer(forged))
        assert reply.status_code == 401, f"{method} {path}"


def test_other_compound_is_not_found(central: Central, world: World) -> None:
    headers = bearer(world.tokens["admin_a"])
    for method, path in object_routes(central):
        if "{" not in path:
            continue
        reply = central.client.request(method, fill(path, world.ids["b"]), headers=headers, json={})
        assert reply.status_code == 404, f"{method} {path}: {reply.status_code} {reply.text}"


@pytest.mark.parametrize("path", sorted(BODY_TARGETS))
def test_bodies_naming_other_compound_are_not_found(
    central: Central, world: World, path: str
) -> None:
    body = BODY_TARGETS[path](world.ids["b"])
    reply = central.client.post(path, json=body, headers=bearer(world.tokens["admin_a"]))
    assert reply.status_code == 404, reply.text
    allowed = central.client.post(
        path, json=BODY_TARGETS[path](world.ids["a"]), headers=bearer(world.tokens["admin_a"])
    )
    assert allowed.status_code not in (401, 403, 404), allowed.text


def test_same_scope_passes_the_scope_check(central: Central, world: World) -> None:
    headers = bearer(world.tokens["admin_a"])
    for method, path in object_routes(central):
        if "{" not in path or path in STREAMS:
            continue
        reply = central.client.request(method, fill(path, world.ids["a"]), headers=headers, json={})
        assert reply.status_code not in (401, 403, 404), f"{method} {path}: {reply.text}"


def test_lists_show_only_own_side(central: Central, world: World) -> None:
    headers = bearer(world.tokens["admin_a"])
    foreign = {value for value in world.ids["b"].values() if len(value) >= 16}
    for method, path in object_routes(central):
        if method != "GET" or "{" in path or path in STREAMS:
            continue
        reply = central.client.get(path, headers=headers)
        assert reply.status_code == 200, f"{path}: {reply.text}"
        assert not any(value in reply.text for value in foreign), f"{path} leaks side b"
