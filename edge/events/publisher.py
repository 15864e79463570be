"""The node's event publisher: sign, store in the outbox, send at QoS 1, forget on PUBACK.

``publish`` returns once the signed event is durably in the outbox; a sender thread drains the
outbox in order whenever the broker is connected and re-sends whatever was not acknowledged
after a reconnect or a restart (central deduplicates by event id). Drops by the outbox quota
are reported as ``outbox.dropped`` audit events. The same connection carries the device's
retained online/offline status (last will) and delivers central's commands and gallery.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

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
from edge.events.outbox import Outbox, OutboxError, OutboxRow

log = logging.getLogger(__name__)

SEND_WINDOW = 32  # events in flight at once
_IDLE_S = 0.5


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
        be stored (``OutboxFull`` when the quota refuses it)."""
        envelope = Envelope(site_id=self._site_id, device_id=self._device_id, payload=payload)
        self._store(envelope)
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
        """Events dropped or refused by the outbox quota since it was created."""
        return self._outbox.dropped_total

    @property
    def connected(self) -> bool:
        """Whether the broker link is up."""
        return self._mqtt.connected

    @property
    def failure(self) -> str | None:
        """Why the link gave up for good (e.g. a refused login), else None."""
        return self._mqtt.failure

    def _store(self, envelope: Envelope, audit_of: OutboxDropped | None = None) -> None:
        topic = event_topic(self._device_id, envelope.kind)
        data = envelope.signed_json(self._key)
        if audit_of is None:
            self._outbox.add(str(envelope.event_id), topic, data)
        else:
            self._outbox.add_audit(str(envelope.event_id), topic, data, audit_of.dropped)

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
            log.error("outbox delete failed error=%s; events will be re-sent", exc)
        if len(acked) < len(rows):
            self.send_failures += len(rows) - len(acked)
            log.warning("events not acknowledged count=%d; will resend", len(rows) - len(acked))
            self._stopping.wait(self._config.mqtt.reconnect_min_s)

    def _report_drops(self) -> None:
        tally = self._outbox.drop_tally()
        if tally.dropped == 0:
            return
        audit = OutboxDropped(
            dropped=tally.dropped,
            policy=self._config.outbox.policy,
            first_event_id=tally.first_event_id,
            last_event_id=tally.last_event_id,
        )
        envelope = Envelope(site_id=self._site_id, device_id=self._device_id, payload=audit)
        self._store(envelope, audit_of=audit)
        log.warning("outbox drops reported dropped=%d", tally.dropped)
