"""What a node reports about itself: counts, version, heartbeats, refusals, camera metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from edge.contract import EventPayload, Heartbeat
from edge.events.outbox import OutboxError
from edge.events.publisher import EventPublisher
from edge.node.workers import CameraWorker

log = logging.getLogger(__name__)

_CAMERA_COUNTERS = ("decoded", "dropped", "undecodable", "reconnects")


class Counters(dict[str, int]):
    """Named event counts that several threads add to (camera workers, tickers, readers)."""

    def __init__(self, *names: str) -> None:
        super().__init__(dict.fromkeys(names, 0))
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the count ``name``."""
        with self._lock:
            self[name] += amount

    def metrics(self) -> dict[str, float]:
        """Each count as the metric ``<name>_total``."""
        with self._lock:
            return {f"{name}_total": float(count) for name, count in self.items()}


def software_version() -> str:
    """The installed anju version, or 'dev'."""
    try:
        return version("anju")
    except PackageNotFoundError:
        return "dev"


def publish_or_log(publisher: EventPublisher, payload: EventPayload) -> bool:
    """Queue an event; False (logged, never raised) when the outbox refuses it."""
    try:
        publisher.publish(payload)
    except OutboxError as exc:
        log.error("event=event_refused kind=%s error=%s", payload.kind, exc)
        return False
    return True


def heartbeat(
    publisher: EventPublisher, started_s: float, gallery_version: int | None = None
) -> Heartbeat:
    """A heartbeat for a node started at monotonic ``started_s``."""
    return Heartbeat(
        uptime_s=round(time.monotonic() - started_s, 3),
        outbox_depth=publisher.outbox_depth,
        outbox_dropped_total=publisher.dropped_total,
        gallery_version=gallery_version,
    )


def camera_metrics(workers: Iterable[CameraWorker[Any]]) -> dict[str, float]:
    """Per-camera health and frame counters, labelled by camera id."""
    values: dict[str, float] = {}
    for worker in workers:
        camera = worker.camera
        label = f'{{camera="{camera.config.camera_id}"}}'
        values[f"camera_up{label}"] = float(camera.state == "ok")
        values[f"camera_frames_failed_total{label}"] = float(worker.frames_failed)
        for name in _CAMERA_COUNTERS:
            values[f"camera_frames_{name}_total{label}"] = float(getattr(camera.counters, name))
    return values
