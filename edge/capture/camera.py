"""A camera's grabber thread: keeps only the newest frame, reconnects, counts and reports health.

Nothing a camera does (refusing to open, stopping, ending, sending garbage) raises out of this
module: each change of state is reported through the status callback as a contract
``CameraStatus`` and the thread keeps trying with exponential backoff, unless a file ended
without ``loop`` (then it stays ``ended`` until stopped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import cv2
import numpy as np

from edge.capture.config import CameraConfig
from edge.contract import CameraStatus
from models.types import ImageRGB

log = logging.getLogger(__name__)

StatusCallback = Callable[[CameraStatus], None]
ReportedState = Literal["ok", "stalled", "disconnected", "ended", "corrupt"]


@dataclass(frozen=True)
class Frame:
    """One decoded frame and when it was grabbed."""

    camera_id: str
    gate_id: str
    sequence: int
    image_rgb: ImageRGB
    grabbed_monotonic_s: float
    grabbed_at: datetime


@dataclass
class CaptureCounters:
    """Running totals of one camera since start."""

    decoded: int = 0
    dropped: int = 0
    """Frames overwritten by a newer one before anyone took them."""
    undecodable: int = 0
    reconnects: int = 0


class Camera:
    """Grabs frames from one source on its own thread; ``take`` returns the newest unseen one."""

    def __init__(self, config: CameraConfig, on_status: StatusCallback | None = None) -> None:
        self.config = config
        self.counters = CaptureCounters()
        self.state: ReportedState | Literal["starting"] = "starting"
        self._on_status = on_status
        self._stop = threading.Event()
        self._fresh = threading.Condition()
        self._latest: Frame | None = None
        self._taken = True
        self._last_frame_s = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"camera-{config.camera_id}")

    def start(self) -> None:
        """Start grabbing."""
        self._thread.daemon = True
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop grabbing and wait for the thread."""
        self._stop.set()
        with self._fresh:
            self._fresh.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def take(self, timeout_s: float) -> Frame | None:
        """The newest frame not yet taken, waiting up to ``timeout_s``; None if there is none."""
        with self._fresh:
            if self._taken:
                self._fresh.wait_for(lambda: not self._taken or self._stop.is_set(), timeout_s)
            if self._taken or self._latest is None:
                return None
            self._taken = True
            return self._latest

    def check_stall(self, now_s: float | None = None) -> None:
        """Report ``stalled`` when an open camera has sent nothing for ``stall_timeout_s``."""
        now_s = time.monotonic() if now_s is None else now_s
        if self.state == "ok" and now_s - self._last_frame_s > self.config.stall_timeout_s:
            self._report("stalled", f"no frame for {now_s - self._last_frame_s:.1f} s")

    def _run(self) -> None:
        delay = self.config.reconnect_min_s
        while not self._stop.is_set():
            try:
                outcome = self._stream_once()
            except Exception as exc:  # a broken backend must never kill the node
                log.exception("camera=%s event=grabber_error", self.config.camera_id)
                self._report("disconnected", f"grabber error: {exc}")
                outcome = "retry"
            if outcome == "ended" and not self.config.loop:
                self._stop.wait()
                return
            if outcome == "ended":
                delay = self.config.reconnect_min_s
                continue
            if outcome == "streamed":
                delay = self.config.reconnect_min_s
            self.counters.reconnects += 1
            self._stop.wait(delay)
            delay = min(delay * 2, self.config.reconnect_max_s)

    def _stream_once(self) -> str:
        """Open the source and read it until it fails; returns ended, retry or streamed."""
        capture = cv2.VideoCapture(self.config.source)
        try:
            if not capture.isOpened():
                self._report("disconnected", f"cannot open {self._source_name()}")
                return "retry"
            return self._read_all(capture)
        finally:
            capture.release()

    def _read_all(self, capture: Any) -> str:
        period_s = self._pacing_s(capture)
        bad, streamed, next_due = 0, False, time.monotonic()
        while not self._stop.is_set():
            ok, image = capture.read()
            if ok and isinstance(image, np.ndarray) and image.ndim == 3 and image.size:
                bad, streamed = 0, True
                self._publish(image)
                if period_s:
                    next_due = max(next_due + period_s, time.monotonic() - period_s)
                    self._stop.wait(max(0.0, next_due - time.monotonic()))
                continue
            if self.config.is_file and self._at_end(capture):
                self._report("ended", "end of file")
                return "ended"
            bad += 1
            self.counters.undecodable += 1
            if bad >= self.config.max_bad_reads:
                state: ReportedState = "corrupt" if self.config.is_file else "disconnected"
                self._report(state, f"{bad} consecutive unreadable frames")
                return "ended" if self.config.is_file else ("streamed" if streamed else "retry")
        return "streamed"

    def _publish(self, image_bgr: np.ndarray) -> None:
        rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
        now_s = time.monotonic()
        with self._fresh:
            if not self._taken:
                self.counters.dropped += 1
            self.counters.decoded += 1
            self._latest = Frame(
                camera_id=self.config.camera_id,
                gate_id=self.config.gate_id,
                sequence=self.counters.decoded,
                image_rgb=rgb,
                grabbed_monotonic_s=now_s,
                grabbed_at=datetime.now(UTC),
            )
            self._taken = False
            self._last_frame_s = now_s
            self._fresh.notify_all()
        if self.state != "ok":
            self._report("ok", f"streaming {self._source_name()}")

    def _at_end(self, capture: Any) -> bool:
        total = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        position = capture.get(cv2.CAP_PROP_POS_FRAMES)
        return bool(total <= 0 or position >= total - 1)

    def _pacing_s(self, capture: Any) -> float:
        if not (self.config.is_file and self.config.realtime):
            return 0.0
        fps = self.config.fps_override or float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return 1.0 / fps if fps > 0 else 0.0

    def _source_name(self) -> str:
        source = str(self.config.source)
        return source.split("@")[-1] if "://" in source else source  # never log credentials

    def _report(self, state: ReportedState, detail: str) -> None:
        """Log and report a change of state (a repeat of the same state is only logged)."""
        changed, self.state = state != self.state, state
        if not changed:
            log.debug("camera=%s state=%s detail=%r", self.config.camera_id, state, detail)
            return
        level = logging.INFO if state == "ok" else logging.WARNING
        log.log(level, "camera=%s state=%s detail=%r", self.config.camera_id, state, detail)
        if self._on_status is None:
            return
        status = CameraStatus(
            camera_id=self.config.camera_id,
            state=state,
            frames_decoded=self.counters.decoded,
            frames_dropped=self.counters.dropped,
            frames_undecodable=self.counters.undecodable,
            detail=detail,
        )
        try:
            self._on_status(status)
        except Exception:
            log.exception("camera=%s event=status_callback_failed", self.config.camera_id)
