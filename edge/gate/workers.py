"""The node's background loops: one worker per camera, and a ticker for periodic duties."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from edge.capture.camera import Camera, Frame
from edge.gate.vision import FaceDecision

log = logging.getLogger(__name__)

DecisionSink = Callable[[FaceDecision], None]
_TAKE_TIMEOUT_S = 0.5


class FrameProcessor(Protocol):
    """Turns a frame into decisions (``GateVision``)."""

    def process(self, frame: Frame) -> list[FaceDecision]: ...


class CameraWorker:
    """Takes the newest frame of one camera, runs the vision on it, hands decisions on."""

    def __init__(self, camera: Camera, vision: FrameProcessor, sink: DecisionSink) -> None:
        self.camera = camera
        self.vision = vision
        self.frames_processed = 0
        self.frames_failed = 0
        self._sink = sink
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"vision-{camera.config.camera_id}", daemon=True
        )

    def start(self) -> None:
        """Start the camera and the worker."""
        self.camera.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker, then the camera."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        self.camera.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.camera.take(_TAKE_TIMEOUT_S)
            self.camera.check_stall()
            if frame is None:
                continue
            self.frames_processed += 1
            try:
                decisions = self.vision.process(frame)
            except Exception:  # a bug on one frame must not stop the camera for good
                self.frames_failed += 1
                log.exception("camera=%s event=frame_failed", frame.camera_id)
                continue
            for decision in decisions:
                try:
                    self._sink(decision)
                except Exception:  # one failed hand-over must not stop the camera
                    log.exception("camera=%s event=decision_sink_failed", frame.camera_id)


class Ticker:
    """Runs ``duty`` every ``period_s`` on its own thread until stopped; errors are logged."""

    def __init__(self, name: str, period_s: float, duty: Callable[[], object]) -> None:
        self._period_s = period_s
        self._duty = duty
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start ticking (the first tick comes after one period)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            try:
                self._duty()
            except Exception:
                log.exception("ticker=%s event=duty_failed", self._thread.name)
