"""A node's background loops: one worker per camera, and a ticker for periodic duties."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from edge.capture.camera import Camera, Frame

log = logging.getLogger(__name__)

Result = TypeVar("Result")
_TAKE_TIMEOUT_S = 0.5
_JOIN_TIMEOUT_S = 5.0


class CameraWorker(Generic[Result]):
    """Takes the newest frame of one camera, processes it, hands each result to ``sink``.

    ``process`` turns a frame into results (a gate's face decisions, an outlet's finished
    parcels); an exception in it or in ``sink`` is logged and counted, never stops the camera.
    """

    def __init__(
        self,
        camera: Camera,
        process: Callable[[Frame], Iterable[Result]],
        sink: Callable[[Result], object],
    ) -> None:
        self.camera = camera
        self.frames_processed = 0
        self.frames_failed = 0
        self._process = process
        self._sink = sink
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"camera-{camera.config.camera_id}", daemon=True
        )

    def start(self) -> None:
        """Start the camera and the worker."""
        self.camera.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker, then the camera."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(_JOIN_TIMEOUT_S)
        self.camera.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.camera.take(_TAKE_TIMEOUT_S)
            self.camera.check_stall()
            if frame is None:
                continue
            self.frames_processed += 1
            try:
                results = list(self._process(frame))
            except Exception:  # a bug on one frame must not stop the camera for good
                self.frames_failed += 1
                log.exception("camera=%s event=frame_failed", frame.camera_id)
                continue
            for result in results:
                try:
                    self._sink(result)
                except Exception:  # one failed hand-over must not stop the camera
                    log.exception("camera=%s event=result_sink_failed", frame.camera_id)


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
            self._thread.join(_JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            try:
                self._duty()
            except Exception:
                log.exception("ticker=%s event=duty_failed", self._thread.name)
