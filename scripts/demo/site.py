"""Everything the demo creates through central's API: hierarchy, sites, devices, people, a pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scripts.demo.faces import EnrolmentPhoto

log = logging.getLogger(__name__)
HIERARCHY = (("district", "西湖区"), ("street", "文新街道"), ("community", "文新社区"))
CONSENT = {
    "purpose": "gate access",
    "retention_days": 365,
    "notice_version": "demo-1",
    "method": "paper",
}


@dataclass(frozen=True)
class DemoSite:
    """Ids and secrets the nodes and the tests need."""

    compound_id: str
    gate_id: str
    outlet_id: str
    gate_device: dict[str, Any]
    outlet_device: dict[str, Any]
    residents: dict[str, str]
    visitor_pass: str


class Api:
    """A logged-in client of central's API that raises on any error status."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=60.0)
        form = {"username": username, "password": password}
        token = self.call("POST", "/api/auth/token", data=form)["access_token"]
        self.client.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer; ``httpx.HTTPStatusError`` naming central's reason."""
        response = self.client.request(method, path, **kwargs)
        if response.is_error:
            raise httpx.HTTPStatusError(
                f"{method} {path}: {response.status_code} {response.text[:300]}",
                request=response.request,
                response=response,
            )
        return response.json()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


def _hierarchy(api: Api, city_id: str) -> str:
    parent = city_id
    for level, name in HIERARCHY:
        parent = api.call("POST", "/api/nodes", json={"name": name, "level": level,
                                                      "parent_id": parent})["id"]  # fmt: skip
    log.info("step=hierarchy community=%s", parent)
    return parent


def _resident(api: Api, household_id: str, photo: EnrolmentPhoto) -> str:
    body = {"household_id": household_id, "name": photo.name, "birth_date": "1985-06-01"}
    resident_id: str = api.call("POST", "/api/residents", json=body)["id"]
    consent = CONSENT | {"given_at": datetime.now(UTC).isoformat()}
    api.call("POST", f"/api/persons/{resident_id}/consent", json=consent)
    files = [("photos", (f"face-{photo.face_index}.jpg", photo.jpeg, "image/jpeg"))]
    api.call("POST", f"/api/persons/{resident_id}/enrol", files=files)
    log.info("step=enrol resident=%s face=%d id=%s", photo.name, photo.face_index, resident_id)
    return resident_id


def _visitor_pass(api: Api, host_id: str) -> str:
    now = datetime.now(UTC)
    body = {
        "host_resident_id": host_id,
        "name": "访客 刘洋",
        "valid_from": (now - timedelta(minutes=5)).isoformat(),
        "valid_until": (now + timedelta(days=1)).isoformat(),
    }
    visitor = api.call("POST", "/api/visitors", json=body)
    text: str = api.call("GET", f"/api/visitors/{visitor['id']}/pass")["pass_text"]
    log.info("step=visitor_pass visitor=%s valid_until=%s", visitor["id"], body["valid_until"])
    return text


def create_site(api: Api, city_id: str, photos: list[EnrolmentPhoto]) -> DemoSite:
    """The hierarchy, a compound with a gate, an outlet, two devices, residents and a pass."""
    community = _hierarchy(api, city_id)
    site = {"name": "翠苑小区", "community_id": community}
    compound = api.call("POST", "/api/compounds", json=site)["id"]
    gate = api.call("POST", f"/api/compounds/{compound}/gates", json={"name": "北门"})["id"]
    outlet_site = {"name": "文新驿站", "community_id": community}
    outlet = api.call("POST", "/api/outlets", json=outlet_site)["id"]
    gate_device = api.call("POST", "/api/devices", json={"kind": "gate", "gate_id": gate})
    outlet_device = api.call("POST", "/api/devices", json={"kind": "outlet", "outlet_id": outlet})
    log.info(
        "step=provision gate_device=%s outlet_device=%s",
        gate_device["device"]["id"],
        outlet_device["device"]["id"],
    )
    household = api.call("POST", "/api/households", json={"compound_id": compound,
                                                         "label": "3-2-701"})["id"]  # fmt: skip
    residents = {p.name: _resident(api, household, p) for p in photos}
    visitor_pass = _visitor_pass(api, next(iter(residents.values())))
    return DemoSite(compound, gate, outlet, gate_device, outlet_device, residents, visitor_pass)


def gallery_applied(api: Api, compound_id: str, device_id: str) -> bool:
    """Whether the gate reported applying the compound's newest gallery version."""
    for gate in api.call("GET", f"/api/gallery/{compound_id}/gates"):
        if gate["device_id"] == device_id:
            return gate["applied_version"] is not None and not gate["lagging"]
    return False
