"""The gate node end to end on the machine's Mosquitto, with G1's transport, gallery,
credentials and relay slot: faces, QR passes, guard opens, evidence, and what leaves the node."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.contract import (
    GalleryDelta,
    GallerySnapshot,
    RemoteOpen,
    VisitorPass,
    command_topic,
    gallery_topic,
    issue_pass,
    sign_message,
)
from edge.gate.app import GateNode
from edge.gate.config import GateConfig
from models.engine import FaceEngine
from tests.edge import videogen
from tests.edge.gate.support import (
    Keys,
    Listener,
    RecordingRelay,
    gallery_entry,
    gate_config,
    place_video,
    scan_payloads,
    signed,
    wait_until,
)
from tests.edge.videogen import FaceCut

CAMERA = {"gate_id": "north", "realtime": True, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2}


@pytest.fixture
def started(
    tmp_path: Path,
    keys: Keys,
    engine: FaceEngine,
    listener_factory: Callable[[str, Any], Listener],
    request: pytest.FixtureRequest,
) -> Iterator[tuple[GateNode, Listener, RecordingRelay]]:
    """A started node with the cameras the test names (``cams`` marker), and its listener."""
    names = getattr(request, "param", [])
    cameras = [{"camera_id": n, "source": str(tmp_path / f"{n}.avi"), **CAMERA} for n in names]
    config = GateConfig.model_validate(gate_config(tmp_path, keys, cameras))
    listener = listener_factory(config.device.device_id, keys.device.public_key())
    relay = RecordingRelay()
    node = GateNode(config, engine=engine, relay=relay)
    node.start()
    try:
        listener.wait_for("device.status")  # the birth follows the node's subscriptions
        yield node, listener, relay
    finally:
        node.stop()


def walk(cut: FaceCut) -> list[Any]:
    return list(videogen.walk_up(cut, 20)) + list(videogen.empty_scene(25))


@pytest.mark.parametrize("started", [["cam-a", "cam-b", "cam-c"]], indirect=True)
def test_resident_granted_stranger_denied_revoked_denied(
    started: tuple[GateNode, Listener, RecordingRelay],
    keys: Keys,
    face_cuts: list[FaceCut],
    tmp_path: Path,
) -> None:
    node, listener, relay = started
    site = node.config.device.site_id
    snapshot = GallerySnapshot(
        compound_id=site, version=1, pack="anju-open", embedder="fusion",
        dimension=node.index.dimension,
        entries=[gallery_entry(keys, "resident-0", face_cuts[0].template)],
    )  # fmt: skip
    listener.publish(gallery_topic(site), signed(keys, snapshot))
    assert listener.wait_for("gallery.applied")[0].version == 1

    place_video(walk(face_cuts[0]), tmp_path / "cam-a.avi")
    granted = listener.wait_for("access.decision")[0]
    assert (granted.decision, granted.reason, granted.method) == ("granted", "match", "face")
    assert granted.person_id == "resident-0" and granted.gallery_version == 1
    assert relay.pulses == [("north", 0.5)]
    check_evidence(node, keys.token, granted.evidence_ids)

    place_video(walk(face_cuts[1]), tmp_path / "cam-b.avi")
    stranger = listener.wait_for("access.decision", 2)[1]
    assert (stranger.decision, stranger.reason) == ("denied", "no_match")
    assert stranger.person_id is None and stranger.track_id

    delta = GalleryDelta(compound_id=site, base_version=1, version=2, deletions=["resident-0"])
    listener.publish(gallery_topic(site), signed(keys, delta))
    assert listener.wait_for("gallery.applied", 2)[1].version == 2
    place_video(walk(face_cuts[0]), tmp_path / "cam-c.avi")
    revoked = listener.wait_for("access.decision", 3)[2]
    assert revoked.decision == "denied" and revoked.person_id is None
    assert relay.pulses == [("north", 0.5)]

    def states() -> set[tuple[str, str]]:
        return {(s.camera_id, s.state) for s in listener.events("camera.status")}

    wait_until(lambda: ("cam-a", "ended") in states())
    assert {("cam-a", "disconnected"), ("cam-a", "ok")} <= states()
    listener.wait_for("device.heartbeat")
    scan_payloads(listener.raw)


def check_evidence(node: GateNode, token: str, evidence_ids: list[str]) -> None:
    assert node.server is not None and len(evidence_ids) == 1
    url = f"http://127.0.0.1:{node.server.port}/evidence/{evidence_ids[0]}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 401
    wrong = urllib.request.Request(url, headers={"Authorization": "Bearer " + "x" * len(token)})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(wrong, timeout=5)
    good = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(good, timeout=5) as reply:
        assert reply.read(3) == b"\xff\xd8\xff"
    sneaky = urllib.request.Request(
        url.rsplit("/", 1)[0] + "/..%2f..%2fgallery.sqlite3", headers=good.headers
    )
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(sneaky, timeout=5)
    assert missing.value.code == 404


QR_CASES = [  # hours shifted, gates on the pass, forged, shown at, decision, reason
    (0, ["north"], False, "north", "granted", "valid"),
    (-5, ["north"], False, "north", "denied", "expired"),
    (0, ["north"], True, "north", "denied", "forged"),
    (0, ["south"], False, "north", "denied", "wrong_gate"),
]


def test_qr_passes_and_guard_opens_through_the_node(
    started: tuple[GateNode, Listener, RecordingRelay], keys: Keys
) -> None:
    node, listener, relay = started
    for shift_h, gates, forge, shown_at, _, _ in QR_CASES:
        now = datetime.now(UTC) + timedelta(hours=shift_h)
        grant = VisitorPass(
            pass_id="pass-1", visitor_id="visitor-7", compound_id=node.config.device.site_id,
            gate_ids=gates, valid_from=now - timedelta(hours=1),
            valid_until=now + timedelta(hours=1),
        )  # fmt: skip
        node.desk.submit("qr", issue_pass(grant, keys.device if forge else keys.central), shown_at)
    for age_s in (0, 30):
        command = RemoteOpen(
            gate_id="north", operator="guard-1", command_id=f"open-{age_s}",
            issued_at=datetime.now(UTC) - timedelta(seconds=age_s),
        )  # fmt: skip
        data = sign_message(command.model_dump(mode="json"), keys.central)
        listener.publish(command_topic(node.config.device.device_id, "open"), _json(data))
    events = listener.wait_for("access.decision", len(QR_CASES) + 2)
    expected = [("qr", d, r) for *_, d, r in QR_CASES] + [
        ("guard", "granted", "valid"),
        ("guard", "denied", "stale_command"),
    ]
    assert [(e.method, e.decision, e.reason) for e in events] == expected
    assert relay.pulses == [("north", 0.5), ("north", 0.5)]


def test_forged_malformed_or_gapped_gallery_is_refused_and_reported(
    started: tuple[GateNode, Listener, RecordingRelay], keys: Keys, face_cuts: list[FaceCut]
) -> None:
    node, listener, _ = started
    site = node.config.device.site_id
    snapshot = GallerySnapshot(
        compound_id=site, version=1, pack="anju-open", embedder="fusion",
        dimension=node.index.dimension,
        entries=[gallery_entry(keys, "intruder", face_cuts[2].template)],
    )  # fmt: skip
    forged = _json(sign_message(snapshot.model_dump(mode="json"), keys.device))
    listener.publish(gallery_topic(site), forged)
    listener.publish(gallery_topic(site), b"not json at all")
    births = len(listener.events("device.status"))
    gap = GalleryDelta(compound_id=site, base_version=4, version=5, deletions=["x"])
    listener.publish(gallery_topic(site), signed(keys, gap))
    wait_until(lambda: node.counters["gallery_errors"] == 3)
    assert "intruder" not in node.index and node.gallery.version == 0
    assert listener.events("gallery.applied") == []
    status = listener.wait_for("device.status", births + 1)[-1]
    assert (status.state, status.gallery_version) == ("online", 0)


def _json(message: dict[str, Any]) -> bytes:
    import json

    return json.dumps(message).encode()
