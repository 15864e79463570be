"""Alarm and gallery routes: every route scope-checked (same scope, other compound, anonymous),
roles enforced, and the alarm lifecycle over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.alarms.lifecycle import raise_alarm
from central.gallery.distribution import record_gallery_change
from central.gallery.messages import TemplateFormat
from central.gallery.publisher import GalleryPublisher
from central.ingest.mqtt import BrokerTarget, MqttPublisher
from central.ingest.pipeline import IngestPipeline
from central.registry.queries import device_info
from central.rules.correlate import AlarmTrigger
from edge.contract import GalleryApplied, verify_message
from tests.central.ingest.api_helpers import Api, build_api
from tests.central.ingest.helpers import NOW, World
from tests.central.ingest.mqtt_helpers import Listener, open_broker


@pytest.fixture
def api(
    world: World, tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> Iterator[Api]:
    built = build_api(tmp_path, db_url, sessions)
    with built.client:
        yield built


@pytest.fixture
def alarm_ids(api: Api, sessions: sessionmaker[Session]) -> dict[str, int]:
    """An alarm in c1, one in c2 and one of central itself."""
    triggers = {
        "c1": AlarmTrigger("unknown_face", "warning", "c1", "c1/east", NOW, "5 faces", "east"),
        "c2": AlarmTrigger("denial_burst", "critical", "c2", "c2", NOW),
        "central": AlarmTrigger("ingest_backlog", "critical", None, "ingest/w1", NOW),
    }
    ids = {}
    with sessions() as session, session.begin():
        for name, trigger in triggers.items():
            alarm, _ = raise_alarm(session, trigger)
            session.flush()
            ids[name] = alarm.id
    return ids


def test_list_shows_only_the_users_scope(api: Api, alarm_ids: dict[str, int]) -> None:
    names = {v: k for k, v in alarm_ids.items()}
    visible = {
        "op1": ["c1"],
        "viewer1": ["c1"],
        "auditor1": ["c1"],
        "admin1": ["c1", "central"],
        "op2": ["c2"],
    }
    for user, expected in visible.items():
        reply = api.client.get("/api/alarms", headers=api.headers(user))
        assert reply.status_code == 200
        assert sorted(names[a["id"]] for a in reply.json()) == expected, user
    assert api.client.get("/api/alarms").status_code == 401


def test_list_filters(api: Api, alarm_ids: dict[str, int]) -> None:
    def ids(query: str) -> list[int]:
        reply = api.client.get(f"/api/alarms?{query}", headers=api.headers("admin1"))
        assert reply.status_code == 200, reply.text
        return [a["id"] for a in reply.json()]

    assert ids("level=warning") == [alarm_ids["c1"]]
    assert ids("type=ingest_backlog") == [alarm_ids["central"]]
    assert ids("site_id=c1&state=active") == [alarm_ids["c1"]]
    assert ids("state=cleared") == []
    for bad in ("level=loud", "limit=0", "colour=red"):
        reply = api.client.get(f"/api/alarms?{bad}", headers=api.headers("admin1"))
        assert reply.status_code == 422, bad


ROUTES = [
    ("get", "", None),
    ("post", "/acknowledge", None),
    ("post", "/assign", {"assignee": "op1"}),
    ("post", "/comments", {"text": "on my way"}),
    ("post", "/clear", {"reason": "false alarm"}),
]


# Each route tried by: anonymous, another compound's operator, a viewer, an operator in scope.
ACCESS = [(None, 401), ("op2", 404), ("viewer1", 403), ("op1", 200)]


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
def test_alarm_routes_scope_matrix(
    method: str,
    suffix: str,
    body: dict[str, str] | None,
    api: Api,
    alarm_ids: dict[str, int],
) -> None:
    path = f"/api/alarms/{alarm_ids['c1']}{suffix}"
    for user, status_code in ACCESS:
        reply = api.client.request(method, path, json=body, headers=api.headers(user))
        expected = 200 if user == "viewer1" and method == "get" else status_code
        if expected == 200 and suffix == "/comments":
            expected = 201
        assert reply.status_code == expected, (user, reply.text)


def test_central_alarm_hidden_from_operators(api: Api, alarm_ids: dict[str, int]) -> None:
    path = f"/api/alarms/{alarm_ids['central']}"
    assert api.client.get(path, headers=api.headers("op1")).status_code == 404
    assert api.client.get(path, headers=api.headers("admin1")).status_code == 200


def test_lifecycle_over_http(api: Api, alarm_ids: dict[str, int]) -> None:
    base = f"/api/alarms/{alarm_ids['c1']}"
    op = api.headers("op1")
    assert api.client.post(f"{base}/acknowledge", headers=op).json()["state"] == "acknowledged"
    assert api.client.post(f"{base}/acknowledge", headers=op).status_code == 409
    assert (
        api.client.post(f"{base}/assign", json={"assignee": "guard-7"}, headers=op).json()[
            "assignee"
        ]
        == "guard-7"
    )
    api.client.post(f"{base}/comments", json={"text": "camera shows a delivery"}, headers=op)
    cleared = api.client.post(f"{base}/clear", json={"reason": "delivery"}, headers=op).json()
    assert cleared["state"] == "cleared"
    assert [c["text"] for c in cleared["comments"]] == [
        "acknowledged",
        "assigned to guard-7",
        "camera shows a delivery",
        "cleared: delivery",
    ]
    assert api.client.post(f"{base}/clear", json={}, headers=op).status_code == 409
    extra = api.client.post(f"{base}/comments", json={"text": "x", "mood": 1}, headers=op)
    assert extra.status_code == 422


def test_missing_alarm_is_404(api: Api) -> None:
    admin = api.headers("admin1")
    assert api.client.get("/api/alarms/999999", headers=admin).status_code == 404
    assert api.client.get(f"/api/alarms/{2**63}", headers=admin).status_code == 422


@pytest.fixture
def lagging_world(world: World, sessions: sessionmaker[Session]) -> World:
    with sessions() as session, session.begin():
        record_gallery_change(session, "c1", ["res-1"], [])
        record_gallery_change(session, "c1", ["vis-1"], [])
    IngestPipeline(sessions, device_info).process(
        [world.message("gate-e", GalleryApplied(compound_id="c1", version=2))]
    )
    return world


@pytest.mark.parametrize("view", ["gates", "lagging"])
def test_gallery_views_scope_matrix(view: str, api: Api, lagging_world: World) -> None:
    lagging = {("gate-w", None, True)}
    expected_rows = lagging | {("gate-e", 2, False)} if view == "gates" else lagging
    for user, status_code in [(None, 401), ("op2", 404), ("viewer1", 200), ("op1", 200)]:
        reply = api.client.get(f"/api/gallery/c1/{view}", headers=api.headers(user))
        assert reply.status_code == status_code
        if status_code == 200:
            rows = {(r["device_id"], r["applied_version"], r["lagging"]) for r in reply.json()}
            assert rows == expected_rows


def test_resync_asks_lagging_gates(
    api: Api, lagging_world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    with open_broker(tmp_path / "broker") as broker:
        client = MqttPublisher(BrokerTarget(port=broker.port), "central-api")
        api.app.state.gallery_publisher = GalleryPublisher(
            sessions, client.publish, key, TemplateFormat("anju-open", "fusion")
        )
        commands = Listener(broker.port, "anju/v1/dev/+/cmd/#")
        for user, expected in [(None, 401), ("op2", 404), ("viewer1", 403)]:
            reply = api.client.post("/api/gallery/c1/resync", headers=api.headers(user))
            assert reply.status_code == expected
        reply = api.client.post("/api/gallery/c1/resync", headers=api.headers("op1"))
        assert reply.status_code == 202
        assert reply.json() == {"compound_id": "c1", "asked": ["gate-w"]}
        command = commands.next()
        commands.close()
        client.close()
    import json

    verify_message(json.loads(command.payload), key.public_key())
    assert command.topic.endswith("/dev/gate-w/cmd/gallery_resync")
