"""The ingest worker: a persistent MQTT 5 session on the shared subscription, batched storage,
and acknowledgements sent only after the batch's transaction committed."""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

from central.db.base import utcnow
from central.ingest import metrics
from central.ingest.config import IngestConfig
from central.ingest.mqtt import BrokerTarget, end_session, make_client, resume_session
from central.ingest.pipeline import BatchOutcome, CheckedBatch, IngestPipeline
from central.ingest.validate import Incoming
from edge.contract import central_event_subscription
from edge.contract.reconnect import ReconnectBackoff

logger = logging.getLogger(__name__)
_RETRY_S = (0.5, 1.0, 2.0, 5.0)
_BACKLOG_REPORT_EVERY_S = 10.0
_RETIRE_QUIET_S = 1.0
"""A retiring worker leaves once nothing arrived for this long and everything is acknowledged."""
_RETIRE_TIMEOUT_S = 30.0
_GC_YOUNG_THRESHOLD = 50_000
"""Allocations between collections of the youngest generation: several batches' objects."""
_Result = TypeVar("_Result")
Received = tuple[Incoming, int]
"""A message as received, with the QoS it came with (0: nothing to acknowledge)."""


@dataclass(frozen=True)
class BacklogReport:
    """A worker fell behind: messages waiting in it, and how old the freshest stored one was."""

    worker_id: str
    waiting: int
    lag_s: float


class IngestWorker:
    """Receives events on ``subscription`` and stores them through ``pipeline``: one thread
    collects and checks batches, another stores them in order and acknowledges each batch
    after its commit, so the next batch's signatures are verified while one is written."""

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
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._checked: queue.Queue[tuple[list[Received], CheckedBatch]] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self.subscribed = threading.Event()
        self._unsubscribed = threading.Event()
        self._received = 0  # written by paho's thread only
        self._acked = 0  # written by the store thread only
        self._last_message_s = 0.0
        self._last_backlog_report = 0.0
        self._client = make_client(target, target.client_id, manual_ack=True, persistent=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_unsubscribe = lambda *_: self._unsubscribed.set()
        self._client.on_connect_fail = self._on_connect_fail
        self._backoff = ReconnectBackoff(
            config.reconnect_min_s, config.reconnect_max_s, config.stable_after_s
        )
        self._connected_at: float | None = None  # written by paho's thread only
        self._pace_reconnect(0.0)
        self._threads = [
            threading.Thread(target=self._check_batches, name="ingest-check", daemon=True),
            threading.Thread(target=self._store_batches, name="ingest-store", daemon=True),
        ]

    def start(self) -> None:
        """Connect (resuming the persistent session) and start storing.

        The objects alive at start (modules, models, mappers) are frozen out of the garbage
        collector's reach first, so the collections that each batch's short-lived objects
        trigger do not rescan them (that rescanning cost about 9 us per event). The youngest
        generation's threshold is then raised above the objects a batch keeps alive: with the
        default (700) the collector ran every few dozen events, each time rescanning the live
        batch only to find it still alive (about 15 us per event in all, measured); reference
        counting frees a batch's objects when it is done, so collections become rare."""
        gc.collect()
        gc.freeze()
        young, *older = gc.get_threshold()
        gc.set_threshold(max(young, _GC_YOUNG_THRESHOLD), *older)
        config = self._config
        session = resume_session(self._target, config.session_expiry_s, config.receive_maximum)
        self._client.connect_async(
            self._target.host, self._target.port, keepalive=config.keepalive_s, **session
        )
        self._client.loop_start()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Disconnect, then end the batch threads.

        With ``retire_on_stop`` over MQTT 5 (a clean stop, e.g. scaling down), the worker first
        leaves the shared subscription, stores and acknowledges what the broker already gave it,
        and ends its session: its share goes to the other workers instead of waiting in a session
        nobody resumes (Mosquitto and EMQX keep a departed member's share there). Otherwise, and
        after a crash, what was not acknowledged stays in the broker's session and comes back
        when a worker with the same client id starts (stored once by event id)."""
        retiring = (
            self._config.retire_on_stop
            and self._target.protocol == "5"
            and self.subscribed.is_set()
        )
        logger.info("ingest stopping retire=%s", retiring)
        if retiring:
            self._drain_after_unsubscribing()
        self._stopping.set()
        if retiring:
            self._client.disconnect(properties=end_session())
        else:
            self._client.disconnect()
        self._client.loop_stop()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=30)

    def _drain_after_unsubscribing(self) -> None:
        self._client.unsubscribe(self._subscription)
        if not self._unsubscribed.wait(_RETIRE_TIMEOUT_S):
            logger.warning("ingest retire: no unsubscribe acknowledgement; keeping the session")
            return
        deadline = time.monotonic() + _RETIRE_TIMEOUT_S
        while time.monotonic() < deadline:
            if (
                time.monotonic() - self._last_message_s >= _RETIRE_QUIET_S
                and self._acked == self._received
            ):
                logger.info("ingest retired: share handed over, session ended")
                return
            time.sleep(0.1)
        logger.warning("ingest retire: still receiving after %.0f s", _RETIRE_TIMEOUT_S)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if rc.is_failure:
            logger.error("ingest connect refused reason=%s", rc)
            return
        self._connected_at = time.monotonic()
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
        connected_at, self._connected_at = self._connected_at, None
        connected_s = 0.0 if connected_at is None else time.monotonic() - connected_at
        wait_s = self._pace_reconnect(connected_s)
        if not self._stopping.is_set():
            logger.warning(
                "ingest disconnected reason=%s connected_s=%.1f reconnect_in_s=%.2f",
                rc,
                connected_s,
                wait_s,
            )

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        wait_s = self._pace_reconnect(0.0)
        if not self._stopping.is_set():
            logger.warning("ingest connect failed reconnect_in_s=%.2f", wait_s)

    def _pace_reconnect(self, connected_s: float) -> float:
        """Set paho's next reconnect delay from the backoff (paho would go back to its minimum
        after every CONNACK, however soon the link dropped again); returns it."""
        wait_s = self._backoff.next_wait(connected_s)
        # paho annotates the delays as int but waits float seconds
        self._client.reconnect_delay_set(min_delay=wait_s, max_delay=wait_s)  # type: ignore[arg-type]
        return wait_s

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._received += 1
        self._last_message_s = time.monotonic()
        self._inbox.put((Incoming(message.topic, bytes(message.payload), message.mid), message.qos))

    def _check_batches(self) -> None:
        """Collect and check batches; the next batch is checked (signatures verified) while
        the store thread writes the previous one."""
        while not self._stopping.is_set():
            batch = self._collect()
            if not batch:
                continue
            messages = [message for message, _ in batch]
            checked = self._retrying(partial(self._pipeline.check, messages), len(batch))
            while checked is not None and not self._stopping.is_set():
                try:
                    self._checked.put((batch, checked), timeout=0.1)
                    break
                except queue.Full:
                    continue

    def _store_batches(self) -> None:
        """Store checked batches in order; acknowledge each batch only after its commit."""
        while not self._stopping.is_set():
            try:
                batch, checked = self._checked.get(timeout=0.1)
            except queue.Empty:
                continue
            outcome = self._retrying(partial(self._pipeline.store, checked), len(batch))
            if outcome is None:
                return
            with metrics.stage("ack"):
                for message, qos in batch:
                    if qos > 0:
                        self._client.ack(message.mid, qos)
            self._acked += len(batch)
            self._check_backlog(outcome)

    def _collect(self) -> list[Received]:
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

    def _retrying(self, step: Callable[[], _Result], size: int) -> _Result | None:
        """``step``'s result, retrying while the database fails; None if stopped first."""
        attempt = 0
        while True:
            try:
                return step()
            except Exception:
                delay_s = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                logger.exception("ingest batch failed size=%d retry_in_s=%s", size, delay_s)
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
