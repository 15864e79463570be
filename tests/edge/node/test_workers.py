"""Camera workers and tickers: results handed on, a failing frame or hand-over survived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge.capture import Camera, CameraConfig
from edge.capture.camera import Frame
from edge.contract import CameraStatus
from edge.node.workers import CameraWorker, Ticker


def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Poll ``condition`` until it holds; AssertionError on timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


class Recorder:
    """Every third frame fails; others give (-sequence, sequence), and the sink refuses
    negatives, so each surviving frame must still deliver its second result."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.delivered: list[int] = []
        self.ended = threading.Event()

    def process(self, frame: Frame) -> list[int]:
        self.seen.append(frame.sequence)
        if frame.sequence % 3 == 0:
            raise RuntimeError("a bug on this frame")
        return [-frame.sequence, frame.sequence]

    def sink(self, value: int) -> None:
        if value < 0:
            raise ValueError("refused hand-over")
        self.delivered.append(value)

    def status(self, status: CameraStatus) -> None:
        if status.state == "ended":
            self.ended.set()


def test_worker_survives_failed_frames_and_hand_overs(video_file: Path) -> None:
    recorder = Recorder()
    config = CameraConfig(camera_id="cam1", gate_id="g1", source=str(video_file),
                          fps_override=50.0, reconnect_min_s=0.05)  # fmt: skip
    worker: CameraWorker[int] = CameraWorker(
        Camera(config, recorder.status), recorder.process, recorder.sink
    )
    worker.start()
    try:
        wait_until(recorder.ended.is_set)
        wait_until(lambda: worker.frames_processed == len(recorder.seen))
    finally:
        worker.stop()
    failing = [s for s in recorder.seen if s % 3 == 0]
    assert failing and worker.frames_failed == len(failing)
    assert recorder.delivered == [s for s in recorder.seen if s % 3 != 0]
    assert max(recorder.delivered) > min(failing)  # frames after a failure still count


def test_ticker_keeps_ticking_after_a_failed_duty() -> None:
    ticks: list[int] = []

    def duty() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 1:
            raise RuntimeError("first duty fails")

    ticker = Ticker("test-ticker", 0.01, duty)
    ticker.start()
    try:
        wait_until(lambda: len(ticks) >= 3)
    finally:
        ticker.stop()
    count = len(ticks)
    time.sleep(0.05)
    assert len(ticks) == count  # stopped means stopped
