"""The outlet node end to end: signed events on the real Mosquitto, evidence pulled with the
token, ID-card reader over HTTP, configuration errors named, the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.capture.camera import Frame
from edge.contract import private_key_text
from edge.outlet.app import OutletNode
from edge.outlet.config import OutletConfig, load_outlet_config
from models.errors import ModelError
from tests.edge.gate.support import Listener
from tests.edge.outlet.conftest import VALID_ID, outlet_config_data
from tests.edge.outlet.scenes import Scenario, Textures, render, write_video
from tests.support.services import free_port

REPO = Path(__file__).resolve().parents[3]
TOKEN = "evidence-token-for-tests-0123456789"
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def node_data(tmp_path: Path, key: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    """A node configuration with keys, token, a free evidence port and the HTTP ID reader."""
    (tmp_path / "device.key").write_text(private_key_text(key) + "\n", encoding="ascii")
    (tmp_path / "token").write_text(TOKEN, encoding="ascii")
    data = outlet_config_data(tmp_path)
    server = {"port": free_port(), "token_file": str(tmp_path / "token")}
    data["evidence"] = {"folder": str(tmp_path / "evidence"), "server": server}
    data["sender"] = {"hash_key_file": str(tmp_path / "hash.key"), "http_port": 0}
    device = {**data["device"], "device_id": f"outlet-{uuid.uuid4().hex[:12]}"}  # type: ignore[dict-item]
    data["device"] = device
    return data | changes


@pytest.fixture
def node_factory(tmp_path: Path) -> Iterator[Callable[..., tuple[OutletNode, Listener]]]:
    """Start nodes (and their listeners); all are stopped afterwards."""
    made: list[tuple[OutletNode, Listener]] = []

    def make(**changes: Any) -> tuple[OutletNode, Listener]:
        key = Ed25519PrivateKey.generate()
        config = OutletConfig.model_validate(node_data(tmp_path, key, **changes))
        listener = Listener(config.device.device_id, key.public_key())
        node = OutletNode(config)
        node.start()
        made.append((node, listener))
        return node, listener

    yield make
    for node, listener in made:
        node.stop()
        listener.close()


def _pull(port: int, path: str, token: str | None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _post_id(port: int, number: str) -> dict[str, Any]:
    body = json.dumps({"id_number": number}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/sender", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.loads(response.read()))


def test_one_signed_inspection_per_parcel_with_pullable_evidence(
    node_factory: Callable[..., tuple[OutletNode, Listener]], textures: Textures
) -> None:
    node, listener = node_factory()
    reader_port = node.readers[0].port  # type: ignore[attr-defined]
    assert _post_id(reader_port, VALID_ID) == {"status": "verified", "masked": "1101**********002X"}
    base_s = node.sender.for_parcel(0, 1e12).read_s  # type: ignore[union-attr]
    for index, (t, image) in enumerate(render(Scenario("short", inspect_s=3.0), textures)):
        frame = Frame("desk", "desk-1", index, image, base_s + t, T0 + timedelta(seconds=t))
        node.on_frame(frame, xray=False)
    (record,) = listener.wait_for("parcel.inspection")
    assert record.flags == ["SHORT_INSPECTION"]
    assert record.waybill_number == "SF1234567890" and record.sender_status == "verified"
    assert VALID_ID not in listener.raw[-1].decode()
    assert len(record.evidence_ids) == 4  # label, peak activity, X-ray, clip
    port = node.server.port  # type: ignore[union-attr]
    for evidence_id in record.evidence_ids:
        status, body = _pull(port, f"/evidence/{evidence_id}", TOKEN)
        assert status == 200 and len(body) > 1000
    assert _pull(port, f"/evidence/{record.evidence_ids[0]}", "wrong-token")[0] == 401
    assert _pull(port, f"/evidence/{record.evidence_ids[0]}", None)[0] == 401
    assert _pull(port, "/evidence/../outbox.sqlite3", TOKEN)[0] == 404


def test_bad_id_numbers_are_answered_and_counted(
    node_factory: Callable[..., tuple[OutletNode, Listener]],
) -> None:
    node, _ = node_factory()
    port = node.readers[0].port  # type: ignore[attr-defined]
    assert _post_id(port, "110105194912310021") == {"status": "invalid", "masked": None}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/sender", data=b"{", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert node.sender.rejected == 2


def test_a_missing_camera_is_reported_not_fatal(
    node_factory: Callable[..., tuple[OutletNode, Listener]], tmp_path: Path
) -> None:
    camera = {"camera_id": "desk", "gate_id": "desk-1", "source": str(tmp_path / "none.avi")}
    _, listener = node_factory(desk_camera=camera)
    (status,) = listener.wait_for("camera.status")
    assert status.state == "disconnected"


def test_a_misspelt_key_is_named(
    tmp_path: Path, write_config: Callable[[dict[str, Any]], Path]
) -> None:
    data = node_data(tmp_path, Ed25519PrivateKey.generate())
    data["inspection"] = {"short_inspecton_s": 5}
    with pytest.raises(ModelError, match="short_inspecton_s"):
        load_outlet_config(write_config(data))


def test_cli_checks_the_example_configuration() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "anju.cli",
            "edge",
            "outlet",
            "--config",
            "configs/outlet.example.yaml",
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "valid outlet configuration" in result.stdout


def test_the_node_process_reads_a_camera_and_says_goodbye(
    tmp_path: Path, textures: Textures, write_config: Callable[[dict[str, Any]], Path]
) -> None:
    video = write_video(Scenario("played", inspect_s=15.0), textures, tmp_path / "desk.avi")
    key = Ed25519PrivateKey.generate()
    # Played 4x fast through the real capture thread, so every duration is set 4x shorter.
    camera = {"camera_id": "desk", "gate_id": "desk-1", "source": str(video), "fps_override": 40}
    desk = {"enter_s": 0.125, "leave_s": 0.25, "settle_s": 0.125}
    inspection = {"opened_still_s": 0.25, "short_inspection_s": 2.0, "missing_inspection_s": 0.25}
    data = node_data(tmp_path, key, desk_camera=camera, desk=desk, inspection=inspection)
    data["xray"] = {"window_s": 1.25, "busy_s": 0.075}
    data["sender"] = {"hash_key_file": str(tmp_path / "hash.key"), "stdin": True}
    path = write_config(data)
    listener = Listener(data["device"]["device_id"], key.public_key())
    command = [sys.executable, "-m", "anju.cli", "edge", "outlet", "--config", str(path)]
    node = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, text=True)
    try:
        assert node.stdin is not None
        node.stdin.write(f"id:{VALID_ID}\n")
        node.stdin.flush()
        (record,) = listener.wait_for("parcel.inspection", timeout_s=40)
        assert record.flags == [] and record.opened and record.xray_passed
        assert record.waybill_number == "SF1234567890"
    finally:
        node.send_signal(signal.SIGTERM)
        status = node.wait(30)
        listener.close()
    assert status == 0
    assert [s.state for s in listener.events("device.status")][-1] == "offline"
