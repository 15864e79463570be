"""The ingest worker: a persistent MQTT 5 session on the shared subscription, batched storage,
and acknowledgements sent only after the batch's transaction committed."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt

from central.db.base import utcnow
from central.ingest import metrics
from central.ingest.config import IngestConfig
from central.ingest.mqtt import BrokerTarget, connect_properties, make_client
from central.ingest.pipeline import BatchOutcome, IngestPipeline
from central.ingest.validate import Incoming
from edge.contract import central_event_subscription

logger = logging.getLogger(__name__)
_RETRY_S = (0.5, 1.0, 2.0, 5.0)
_BACKLOG_REPORT_EVERY_S = 10.0


@dataclass(frozen=True)
class BacklogReport:
    """A worker fell behind: messages waiting in it, and how old the freshest stored one was."""

    worker_id: str
    waiting: int
    lag_s: float


class IngestWorker:
    """Receives events on ``subscription`` and stores them through ``pipeline``."""

    def __init__(
        self,
        target: BrokerTarget,
        pipeline: IngestPipeline,
        config: IngestConfig,
        on_backlog: Callable[[BacklogReport], None] | None = None,
        subscription: str | None = None,
    ) -> None:
        self._target = target
        self._pipeline = pipeline
        self._config = config
        self._on_backlog = on_backlog
        self._subscription = subscription or central_event_subscription()
        self._inbox: queue.Queue[tuple[Incoming, int]] = queue.Queue()
        self._stopping = threading.Event()
        self.subscribed = threading.Event()
        self._last_backlog_report = 0.0
        self._client = make_client(target, target.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._thread = threading.Thread(target=self._run, name="ingest-batches", daemon=True)

    def start(self) -> None:
        """Connect (resuming the persistent session) and start storing."""
        properties = connect_properties(self._config.session_expiry_s, self._config.receive_maximum)
        self._client.connect_async(
            self._target.host,
            self._target.port,
            keepalive=self._config.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()
        self._thread.start()

    def stop(self) -> None:
        """Disconnect, then end the batch thread; anything not yet acknowledged stays in the
        broker's session and comes back on the next start (stored once by event id)."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if rc.is_failure:
            logger.error("ingest connect refused reason=%s", rc)
            return
        client.subscribe(self._subscription, qos=1)
        logger.info(
            "ingest connected subscription=%s session_present=%s",
            self._subscription,
            flags.session_present,
        )

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, codes: list[Any], props: Any
    ) -> None:
        if all(not code.is_failure for code in codes):
            logger.info("ingest subscribed subscription=%s", self._subscription)
            self.subscribed.set()
        else:
            logger.error("ingest subscription refused codes=%s", codes)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        self.subscribed.clear()
        if not self._stopping.is_set():
            logger.warning("ingest disconnected reason=%s (paho reconnects)", rc)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.put((Incoming(message.topic, bytes(message.payload), message.mid), message.qos))

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._collect()
            if batch:
                self._store_and_ack(batch)

    def _collect(self) -> list[tuple[Incoming, int]]:
        try:
            batch = [self._inbox.get(timeout=0.1)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self._config.batch_max_ms / 1000
        while len(batch) < self._config.batch_max_messages:
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self._inbox.get_nowait()
                    if remaining <= 0
                    else self._inbox.get(timeout=remaining)
                )
            except queue.Empty:
                break
        return batch

    def _store_and_ack(self, batch: list[tuple[Incoming, int]]) -> None:
        outcome = self._store(batch)
        if outcome is None:
            return
        for message, qos in batch:
            if qos > 0:
                self._client.ack(message.mid, qos)
        self._check_backlog(outcome)

    def _store(self, batch: list[tuple[Incoming, int]]) -> BatchOutcome | None:
        """The committed outcome, retrying while the database fails; None if stopped first."""
        attempt = 0
        while True:
            try:
                return self._pipeline.process([message for message, _ in batch])
            except Exception:
                delay_s = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                logger.exception("ingest batch failed size=%d retry_in_s=%s", len(batch), delay_s)
                attempt += 1
                if self._stopping.wait(delay_s):
                    return None

    def _check_backlog(self, outcome: BatchOutcome) -> None:
        waiting = self._inbox.qsize()
        metrics.WAITING.set(waiting)
        newest: datetime | None = max((e.occurred_at for e in outcome.stored), default=None)
        lag_s = (utcnow() - newest).total_seconds() if newest else 0.0
        metrics.LAG.set(lag_s)
        behind = waiting >= self._config.backlog_messages or lag_s > self._config.backlog_lag_s
        now = time.monotonic()
        if not behind or self._on_backlog is None:
            return
        if now - self._last_backlog_report < _BACKLOG_REPORT_EVERY_S:
            return
        self._last_backlog_report = now
        report = BacklogReport(self._target.client_id, waiting, lag_s)
        logger.warning(
            "ingest backlog worker=%s waiting=%d lag_s=%.1f", report.worker_id, waiting, lag_s
        )
        try:
            self._on_backlog(report)
        except Exception:
            logger.exception("ingest backlog hook failed")
