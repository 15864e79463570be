"""Dashboard reads added for the registry forms, the compliance chart and node filtering."""

from __future__ import annotations

import pytest

from tests.central.api.conftest import Central
from tests.central.api.world import World, bearer


def test_compliance_covers_each_outlet_in_scope_per_day(central: Central, world: World) -> None:
    headers = bearer(world.tokens["viewer_a"])
    reply = central.client.get("/api/dashboard/compliance?days=7", headers=headers)
    assert reply.status_code == 200, reply.text
    outlets = reply.json()
    assert [o["outlet_id"] for o in outlets] == [world.ids["a"]["outlet_id"]]
    days = outlets[0]["days"]
    assert len(days) == 7
    assert [d["day"] for d in days] == sorted(d["day"] for d in days)
    assert days[-1]["parcels"] >= 1
    assert all(d["parcels"] == 0 and d["real_name_pct"] == 100.0 for d in days[:-1])


@pytest.mark.parametrize("days", [0, 32, "x"])
def test_compliance_refuses_bad_day_counts(central: Central, world: World, days: object) -> None:
    headers = bearer(world.tokens["viewer_a"])
    reply = central.client.get(f"/api/dashboard/compliance?days={days}", headers=headers)
    assert reply.status_code == 422


def test_households_of_a_compound_for_the_resident_form(central: Central, world: World) -> None:
    headers = bearer(world.tokens["viewer_a"])
    own = world.ids["a"]["compound_id"]
    reply = central.client.get(f"/api/dashboard/compounds/{own}/households", headers=headers)
    assert reply.json() == [{"id": world.ids["a"]["household_id"], "label": "1-101"}]
    other = world.ids["b"]["compound_id"]
    reply = central.client.get(f"/api/dashboard/compounds/{other}/households", headers=headers)
    assert reply.status_code == 404


def test_event_search_by_node_stays_in_scope(central: Central, world: World) -> None:
    headers = bearer(world.tokens["viewer_a"])
    own = central.client.get(
        f"/api/dashboard/events?node_id={world.ids['a']['node_id']}", headers=headers
    )
    assert own.status_code == 200
    other = central.client.get(
        f"/api/dashboard/events?node_id={world.ids['b']['node_id']}", headers=headers
    )
    assert other.status_code == 404
