"""Capture from generated files: normal, ended, looped, truncated, scrambled, missing."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.capture import Camera, CameraConfig
from edge.contract import CameraStatus
from tests.edge import videogen


class StatusLog:
    """Collects the camera's status reports (called from its thread)."""

    def __init__(self) -> None:
        self.items: list[CameraStatus] = []
        self._lock = threading.Lock()

    def __call__(self, status: CameraStatus) -> None:
        with self._lock:
            self.items.append(status)

    def states(self) -> list[str]:
        with self._lock:
            return [s.state for s in self.items]


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def camera(source: str, statuses: StatusLog, **options: object) -> Camera:
    config = CameraConfig.model_validate(
        {"camera_id": "cam1", "gate_id": "g1", "source": source, "realtime": False}
        | {"reconnect_min_s": 0.05, "reconnect_max_s": 0.2, **options}
    )
    return Camera(config, statuses)


def drain(cam: Camera, until_state: str, statuses: StatusLog) -> int:
    """Take frames until the camera reports ``until_state``; how many were taken."""
    taken = 0
    deadline = time.monotonic() + 20
    while until_state not in statuses.states():
        assert time.monotonic() < deadline, f"no {until_state} in {statuses.states()}"
        if cam.take(0.05) is not None:
            taken += 1
    return taken


def test_normal_file_is_read_then_reported_ended(walk_up_video: Path) -> None:
    statuses = StatusLog()
    cam = camera(str(walk_up_video), statuses, realtime=True, fps_override=200)
    cam.start()
    try:
        taken = drain(cam, "ended", statuses)
        frame = cam.take(0.01)
    finally:
        cam.stop()
    assert statuses.states()[0] == "ok" and statuses.states()[-1] == "ended"
    assert cam.counters.decoded == 30
    assert taken + (frame is not None) + cam.counters.dropped == 30
    assert statuses.items[-1].frames_decoded == 30


def test_unconsumed_frames_are_counted_as_dropped(walk_up_video: Path) -> None:
    statuses = StatusLog()
    cam = camera(str(walk_up_video), statuses)
    cam.start()
    try:
        wait_until(lambda: "ended" in statuses.states())
        newest = cam.take(0.5)
    finally:
        cam.stop()
    assert newest is not None and newest.sequence == 30
    assert cam.counters.dropped == 29


def test_looping_file_keeps_delivering(walk_up_video: Path) -> None:
    statuses = StatusLog()
    cam = camera(str(walk_up_video), statuses, loop=True)
    cam.start()
    try:
        wait_until(lambda: cam.counters.decoded > 75)
    finally:
        cam.stop()
    assert statuses.states().count("ended") >= 2


def test_missing_file_is_reported_and_retried(tmp_path: Path) -> None:
    statuses = StatusLog()
    cam = camera(str(tmp_path / "nowhere.avi"), statuses)
    cam.start()
    try:
        wait_until(lambda: cam.counters.reconnects >= 3)
        assert cam.take(0.05) is None
    finally:
        cam.stop()
    assert set(statuses.states()) == {"disconnected"}
    assert "cannot open" in statuses.items[0].detail


@pytest.mark.parametrize("keep_fraction", [0.5, 0.02])
def test_truncated_file_is_reported_and_node_keeps_running(
    walk_up_video: Path, tmp_path: Path, keep_fraction: float
) -> None:
    broken = videogen.truncate(shutil.copy(walk_up_video, tmp_path / "cut.avi"), keep_fraction)
    statuses = StatusLog()
    cam = camera(str(broken), statuses, max_bad_reads=5)
    cam.start()
    try:
        wait_until(lambda: statuses.states() and statuses.states()[-1] != "ok")
    finally:
        cam.stop()
    assert statuses.states()[-1] == "corrupt"
    assert statuses.items[-1].frames_undecodable == 5
    assert cam.counters.decoded < 30


def test_scrambled_middle_is_survived(walk_up_video: Path, tmp_path: Path) -> None:
    broken = videogen.scramble(shutil.copy(walk_up_video, tmp_path / "bad.avi"), 0.5, 40_000)
    statuses = StatusLog()
    cam = camera(str(broken), statuses, max_bad_reads=5)
    cam.start()
    try:
        wait_until(lambda: statuses.states() and statuses.states()[-1] in {"ended", "corrupt"})
    finally:
        cam.stop()
    assert 20 <= cam.counters.decoded < 30 and cam.counters.undecodable > 0
