"""The parcel API: booking, the state machine (409 when refused), an outlet device's signed
inspection arriving through ingest, rates, waybills, and scope — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from central.db.base import utcnow
from central.ingest.validate import Incoming
from central.parcels.rates import local_day
from edge.contract import Envelope, event_topic, load_private_key
from tests.central.api.conftest import Central
from tests.central.api.world import SIDE_IDS, World, bearer
from tests.central.parcels.helpers import SHANGHAI, inspection, parcel_pipeline


def _call(
    central: Central, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    reply = central.client.request(method, path, json=body, headers=bearer(token))
    return reply.status_code, reply.json()


def _book(central: Central, world: World, number: str, **extra: str) -> dict[str, Any]:
    outlet = world.ids["a"]["outlet_id"]
    body = {"waybill_number": number, **extra}
    code, parcel = _call(
        central, world.tokens["admin_a"], "POST", f"/api/outlets/{outlet}/parcels", body
    )
    assert code == 201, parcel
    return dict(parcel)


def _inspect_from_device(central: Central, world: World, number: str, **changes: Any) -> None:
    """Provision an outlet device through the API and ingest its signed inspection."""
    outlet = world.ids["a"]["outlet_id"]
    code, secrets = _call(
        central,
        world.tokens["admin_a"],
        "POST",
        "/api/devices",
        {"kind": "outlet", "outlet_id": outlet},
    )
    assert code == 201, secrets
    device_id = secrets["device"]["id"]
    started = utcnow() - timedelta(minutes=2)
    payload = inspection(number, outlet_id=outlet, started_at=started, **changes)
    envelope = Envelope(site_id=outlet, device_id=device_id, occurred_at=utcnow(), payload=payload)
    data = envelope.signed_json(load_private_key(secrets["private_key"]))
    outcome = parcel_pipeline(central.sessions).process(
        [Incoming(event_topic(device_id, envelope.kind), data)]
    )
    assert len(outcome.stored) == 1, outcome.rejected


def test_booked_parcel_cannot_be_accepted_before_its_inspection(
    central: Central, api_world: World
) -> None:
    parcel = _book(central, api_world, "SF9000000001", sender_id_number=SIDE_IDS["a"])
    assert (parcel["state"], parcel["real_name"]) == ("received", True)
    assert parcel["sender_id_masked"] == "310***********1238"
    assert parcel["missing_to_accept"] == ["inspection"]
    token = api_world.tokens["operator_a"]
    code, reply = _call(
        central, token, "POST", f"/api/parcels/{parcel['id']}/state", {"state": "accepted"}
    )
    assert (code, reply["detail"]) == (409, "cannot become accepted without inspection")
    code, reply = _call(
        central, token, "POST", f"/api/parcels/{parcel['id']}/state", {"state": "dispatched"}
    )
    assert code == 409 and "received parcel cannot become dispatched" in reply["detail"]
    code, _ = _call(central, token, "GET", f"/api/parcels/{parcel['id']}")
    assert code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"waybill_number": "SF9000000009", "sender_id_number": "310101198506151239"}, 422),
        ({"waybill_number": "SF 1"}, 422),
        ({"waybill_number": "SF9000000009", "extra": 1}, 422),
    ],
)
def test_bad_bookings_are_refused(
    central: Central, api_world: World, body: dict[str, Any], code: int
) -> None:
    outlet = api_world.ids["a"]["outlet_id"]
    got, reply = _call(
        central, api_world.tokens["admin_a"], "POST", f"/api/outlets/{outlet}/parcels", body
    )
    assert got == code, reply


def test_a_waybill_is_booked_once_per_outlet(central: Central, api_world: World) -> None:
    _book(central, api_world, "SF9000000004")
    outlet = api_world.ids["a"]["outlet_id"]
    path = f"/api/outlets/{outlet}/parcels"
    body = {"waybill_number": "SF9000000004"}
    assert _call(central, api_world.tokens["admin_a"], "POST", path, body)[0] == 409


def test_signed_inspection_lets_the_parcel_through_every_step(
    central: Central, api_world: World
) -> None:
    booked = _book(central, api_world, "SF9000000002")
    _inspect_from_device(central, api_world, "SF9000000002")
    token = api_world.tokens["operator_a"]
    path = f"/api/parcels/{booked['id']}/state"
    code, parcel = _call(central, token, "POST", path, {"state": "accepted"})
    assert (code, parcel["state"], parcel["inspected"]) == (200, "accepted", True)
    assert parcel["sender_id_masked"] == "3101**********1238"
    code, parcel = _call(central, token, "POST", path, {"state": "dispatched"})
    assert (code, parcel["state"]) == (200, "dispatched")
    code, reply = _call(central, token, "POST", path, {"state": "refused"})
    assert code == 409, reply


def test_no_xray_blocks_dispatch_and_shows_in_the_rates(central: Central, api_world: World) -> None:
    _inspect_from_device(central, api_world, "SF9000000003", flags=("NO_XRAY",), xray_passed=False)
    outlet = api_world.ids["a"]["outlet_id"]
    token = api_world.tokens["operator_a"]
    code, parcels = _call(central, token, "GET", f"/api/outlets/{outlet}/parcels?state=received")
    [parcel] = [p for p in parcels if p["waybill_number"] == "SF9000000003"]
    assert parcel["missing_to_dispatch"] == ["xray"]
    path = f"/api/parcels/{parcel['id']}/state"
    assert _call(central, token, "POST", path, {"state": "accepted"})[0] == 200
    code, reply = _call(central, token, "POST", path, {"state": "dispatched"})
    assert (code, reply["detail"]) == (409, "cannot become dispatched without xray")
    day = local_day(utcnow() - timedelta(minutes=2), SHANGHAI).isoformat()
    code, rates = _call(central, token, "GET", f"/api/outlets/{outlet}/rates?day={day}")
    assert code == 200 and rates["parcels"] >= 2
    assert rates["xray_pct"] < 100.0 and not rates["complete"]
    code, alarms = _call(central, token, "GET", "/api/alarms")
    assert {"parcel_noncompliant", "outlet_below_target"} <= {a["type"] for a in alarms}


def test_other_outlets_parcels_are_not_found(central: Central, api_world: World) -> None:
    foreign = api_world.ids["b"]["parcel_id"]
    token = api_world.tokens["admin_a"]
    assert _call(central, token, "GET", f"/api/parcels/{foreign}")[0] == 404
    assert (
        _call(central, token, "POST", f"/api/parcels/{foreign}/state", {"state": "refused"})[0]
        == 404
    )
    outlet_b = api_world.ids["b"]["outlet_id"]
    assert _call(central, token, "GET", f"/api/outlets/{outlet_b}/rates")[0] == 404
    code, bills = _call(central, token, "GET", "/api/waybills?number=SF0001b")
    assert (code, bills) == (200, [])
    code, bills = _call(central, token, "GET", "/api/waybills?number=SF0001a")
    assert [b["outlet_ids"] for b in bills] == [[api_world.ids["a"]["outlet_id"]]]


def test_viewers_read_but_cannot_change_state(central: Central, api_world: World) -> None:
    parcel = api_world.ids["a"]["parcel_id"]
    token = api_world.tokens["viewer_a"]
    assert _call(central, token, "GET", f"/api/parcels/{parcel}")[0] == 200
    assert (
        _call(central, token, "POST", f"/api/parcels/{parcel}/state", {"state": "refused"})[0]
        == 403
    )
