"""The node's event publisher: sign, store in the outbox, send at QoS 1, forget on PUBACK.

``publish`` returns once the signed event is durably in the outbox; a sender thread drains the
outbox in order whenever the broker is connected and re-sends whatever was not acknowledged
after a reconnect or a restart (central deduplicates by event id). Drops by the outbox quota
are reported as ``outbox.dropped`` audit events, and so are events the outbox could not store
at all (full disk, I/O error): those are tallied in memory and reported once the outbox takes
writes again. While acknowledged events cannot be deleted, nothing more is sent, so a full
disk never turns into a resend loop. The same connection carries the device's retained
online/offline status (last will) and delivers central's commands and gallery.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.comms.config import TransportConfig
from edge.comms.mqtt import MqttClient, OutgoingMessage
from edge.contract import (
    DeviceStatus,
    Envelope,
    EventPayload,
    OutboxDropped,
    command_topic,
    event_topic,
    gallery_topic,
    status_topic,
)
from edge.events.outbox import DropTally, Outbox, OutboxError, OutboxFull, OutboxRow

log = logging.getLogger(__name__)

SEND_WINDOW = 32  # events in flight at once
_IDLE_S = 0.5


class EventNotStored(OutboxError):
    """The outbox could not store the event (full disk, I/O error); it is tallied and reported
    to central by an ``outbox.dropped`` audit event with reason ``storage_error``."""

    def __init__(self, event_id: str, error: OutboxError) -> None:
        super().__init__(f"event {event_id} not stored: {error}")
        self.event_id = event_id


@dataclass
class _Unstored:
    """Events the outbox failed to store, not yet reported by an audit event."""

    count: int = 0
    first_event_id: str | None = None
    last_event_id: str | None = None

    def add(self, event_id: str) -> None:
        self.count += 1
        self.first_event_id = self.first_event_id or event_id
        self.last_event_id = event_id


class EventPublisher:
    """Signs events, stores them in the SQLite outbox before returning, sends them over MQTT
    (QoS 1), deletes them on PUBACK."""

    def __init__(
        self,
        config: TransportConfig,
        device_key: Ed25519PrivateKey,
        site_id: str,
        device_id: str,
    ) -> None:
        self._config = config
        self._key = device_key
        self._site_id = site_id
        self._device_id = device_id
        self.software_version = ""
        self.gallery_version: int | None = None
        self.send_failures = 0
        self._outbox = Outbox(config.outbox)
        self._unstored = _Unstored()
        self._unstored_total = 0
        self._unstored_lock = threading.Lock()
        self._undeleted: list[int] = []
        self._mqtt = MqttClient(
            config.mqtt,
            config.mqtt.client_id or device_id,
            will=lambda: self._status("offline"),
            birth=lambda: self._status("online"),
        )
        self._mqtt.subscribe(command_topic(device_id, "+"))
        self._mqtt.subscribe(gallery_topic(site_id))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._sender: threading.Thread | None = None

    def start(self) -> None:
        """Connect to the broker and start draining the outbox."""
        self._stopping.clear()
        self._mqtt.start()
        self._sender = threading.Thread(target=self._send_loop, name="event-sender", daemon=True)
        self._sender.start()

    def stop(self) -> None:
        """Stop sending, publish the retained offline status, disconnect, close the outbox."""
        self._stopping.set()
        self._wake.set()
        if self._sender is not None:
            self._sender.join(self._config.mqtt.ack_timeout_s + 2.0)
            self._sender = None
        self._mqtt.stop(last=self._status("offline"))
        self._outbox.close()

    def publish(self, payload: EventPayload) -> Envelope:
        """Sign ``payload`` in a new envelope and store it durably; ``OutboxError`` if it cannot
        be stored: ``OutboxFull`` when the quota refuses it, ``EventNotStored`` when storage
        fails. Either way the refusal is reported to central by an ``outbox.dropped`` audit
        event."""
        envelope = Envelope(site_id=self._site_id, device_id=self._device_id, payload=payload)
        try:
            self._store(envelope)
        except OutboxFull:
            raise  # tallied by the outbox in the same transaction
        except OutboxError as exc:
            with self._unstored_lock:
                self._unstored.add(str(envelope.event_id))
                self._unstored_total += 1
            raise EventNotStored(str(envelope.event_id), exc) from exc
        self._wake.set()
        return envelope

    def on_message(self, handler: Callable[[str, bytes], None]) -> None:
        """Call ``handler(topic, payload)`` for the device's commands and its site's gallery."""
        self._mqtt.on_message(handler)

    @property
    def outbox_depth(self) -> int:
        """Events stored and not yet acknowledged by the broker."""
        return len(self._outbox)

    @property
    def dropped_total(self) -> int:
        """Events dropped or refused by the outbox quota since it was created, plus those it
        failed to store since this publisher started."""
        with self._unstored_lock:
            unstored = self._unstored_total
        return self._outbox.dropped_total + unstored

    @property
    def connected(self) -> bool:
        """Whether the broker link is up."""
        return self._mqtt.connected

    @property
    def failure(self) -> str | None:
        """Why the link gave up for good (e.g. a refused login), else None."""
        return self._mqtt.failure

    def _store(self, envelope: Envelope, settles_drops: int | None = None) -> None:
        """Store an event; an audit event (``settles_drops`` given) takes that many drops off
        the outbox's tally."""
        topic = event_topic(self._device_id, envelope.kind)
        data = envelope.signed_json(self._key)
        if settles_drops is None:
            self._outbox.add(str(envelope.event_id), topic, data)
        else:
            self._outbox.add_audit(str(envelope.event_id), topic, data, settles_drops)

    def _status(self, state: str) -> OutgoingMessage:
        status = DeviceStatus.model_validate(
            {
                "state": state,
                "software_version": self.software_version,
                "gallery_version": self.gallery_version,
            }
        )
        envelope = Envelope(site_id=self._site_id, device_id=self._device_id, payload=status)
        return OutgoingMessage(status_topic(self._device_id), envelope.signed_json(self._key), True)

    def _send_loop(self) -> None:
        while not self._stopping.is_set():
            if not self._mqtt.wait_connected(_IDLE_S):
                continue
            self._wake.clear()
            try:
                if self._undeleted:
                    self._outbox.delete(self._undeleted)
                    self._undeleted = []
                self._report_drops()
                rows = self._outbox.pending(SEND_WINDOW)
                if rows:
                    self._send(rows)
                else:
                    self._wake.wait(_IDLE_S)
            except OutboxError as exc:
                log.error("outbox unusable error=%s", exc)
                self._stopping.wait(_IDLE_S)
            except Exception:  # the sender must outlive any single failure
                log.exception("event sender failed; retrying")
                self._stopping.wait(_IDLE_S)

    def _send(self, rows: list[OutboxRow]) -> None:
        acks = [(row.seq, self._mqtt.publish(row.topic, row.data)) for row in rows]
        deadline = time.monotonic() + self._config.mqtt.ack_timeout_s
        acked = [seq for seq, ack in acks if ack.wait(max(0.0, deadline - time.monotonic()))]
        try:
            self._outbox.delete(acked)
        except OutboxError as exc:
            self._undeleted = acked
            log.error("outbox delete failed error=%s; retrying before sending more", exc)
        if len(acked) < len(rows):
            self.send_failures += len(rows) - len(acked)
            log.warning("events not acknowledged count=%d; will resend", len(rows) - len(acked))
            self._stopping.wait(self._config.mqtt.reconnect_min_s)

    def _report_drops(self) -> None:
        tally = self._outbox.drop_tally()
        if tally.dropped:
            self._store_audit(tally, "quota", settles_drops=tally.dropped)
        with self._unstored_lock:  # held while storing, so no refusal slips between
            unstored = self._unstored
            if unstored.count:
                tally = DropTally(unstored.count, unstored.first_event_id, unstored.last_event_id)
                self._store_audit(tally, "storage_error", settles_drops=0)
                self._unstored = _Unstored()

    def _store_audit(
        self, tally: DropTally, reason: Literal["quota", "storage_error"], settles_drops: int
    ) -> None:
        audit = OutboxDropped(
            dropped=tally.dropped,
            policy=self._config.outbox.policy,
            reason=reason,
            first_event_id=tally.first_event_id,
            last_event_id=tally.last_event_id,
        )
        envelope = Envelope(site_id=self._site_id, device_id=self._device_id, payload=audit)
        self._store(envelope, settles_drops)
        log.warning(
            "outbox drops reported dropped=%d reason=%s first_event_id=%s last_event_id=%s",
            tally.dropped,
            reason,
            tally.first_event_id,
            tally.last_event_id,
        )
