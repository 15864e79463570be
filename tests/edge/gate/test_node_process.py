"""A gate node process (`anju edge gate`) fed cameras that end, are corrupt or are missing:
each is reported and the node keeps running; bad configuration is named at start-up."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from anju.cli import main
from tests.edge import videogen
from tests.edge.gate.support import Keys, Listener, gate_config, wait_until
from tests.edge.videogen import FaceCut

REPO = Path(__file__).resolve().parents[3]


def test_cameras_that_end_or_are_corrupt_are_reported_and_the_node_keeps_running(
    tmp_path: Path,
    keys: Keys,
    face_cuts: list[FaceCut],
    listener_factory: Callable[[str, Any], Listener],
) -> None:
    good = videogen.write_video(videogen.walk_up(face_cuts[1], 15), tmp_path / "good.avi")
    bad = videogen.truncate(shutil.copy(good, tmp_path / "bad.avi"), 0.4)
    common = {"gate_id": "north", "reconnect_min_s": 0.1, "reconnect_max_s": 0.5}
    cameras = [
        {"camera_id": "cam-end", "source": str(good), **common},
        {"camera_id": "cam-bad", "source": str(bad), "max_bad_reads": 5, **common},
        {"camera_id": "cam-none", "source": str(tmp_path / "missing.avi"), **common},
    ]
    config = gate_config(tmp_path, keys, cameras)
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    listener = listener_factory(config["device"]["device_id"], keys.device.public_key())
    command = [sys.executable, "-m", "anju.cli", "edge", "gate", "--config", str(path)]
    node = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        expected = {("cam-end", "ended"), ("cam-bad", "corrupt"), ("cam-none", "disconnected")}

        def states() -> set[tuple[str, str]]:
            return {(s.camera_id, s.state) for s in listener.events("camera.status")}

        wait_until(lambda: expected <= states() or node.poll() is not None, 60)
        assert node.poll() is None, node.stderr.read() if node.stderr else ""
        assert expected <= states()
        beats = len(listener.events("device.heartbeat"))
        wait_until(lambda: len(listener.events("device.heartbeat")) >= beats + 2)
        assert node.poll() is None
    finally:
        node.send_signal(signal.SIGTERM)
        status = node.wait(30)
    assert status == 0
    offline = [s for s in listener.events("device.status") if s.state == "offline"]
    assert offline, "the node did not say goodbye"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda c: c["device"].update(colour="red"), "device.colour"),
        (lambda c: c["cameras"][0].update(fps="fast"), "cameras.0.fps"),
        (lambda c: c["policy"].update(timezone="Nowhere/Null"), "policy.timezone"),
        (lambda c: c["relay"].update(driver="telepathy"), "relay"),
        (lambda c: c["recognition"]["vote"].update(min_votes=0), "recognition.vote.min_votes"),
    ],
)
def test_bad_configuration_is_named_at_start_up(
    tmp_path: Path,
    keys: Keys,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    named: str,
) -> None:
    camera = {"camera_id": "cam", "gate_id": "north", "source": "x.avi"}
    config = gate_config(tmp_path, keys, [camera]) | {"policy": {}, "recognition": {"vote": {}}}
    change(config)
    path = tmp_path / "gate.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    assert main(["edge", "gate", "--config", str(path), "--check"]) == 2
    assert named in capsys.readouterr().err


def test_valid_configuration_checks(tmp_path: Path, keys: Keys, capsys: Any) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(json.dumps(gate_config(tmp_path, keys, [])), encoding="utf-8")
    assert main(["edge", "gate", "--config", str(path), "--check"]) == 0
    assert "valid gate configuration" in capsys.readouterr().out


def test_example_configuration_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    example = REPO / "configs/gate.example.yaml"
    assert main(["edge", "gate", "--config", str(example), "--check"]) == 0
    assert "gate-north-1" in capsys.readouterr().out
