"""One ingest process (or the API process, via ``start_ingest``): the MQTT worker with the rules
and the live feed after each commit, the periodic alarm checks, and gallery publishing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from central.alarms.service import AlarmService
from central.core.secrets import CentralSecrets
from central.core.settings import CentralSettings
from central.gallery.publisher import GalleryPublisher
from central.gallery.wiring import gallery_publisher
from central.ingest.mqtt import MqttPublisher, broker_target, event_subscription
from central.ingest.pipeline import AfterCommit, IngestPipeline
from central.ingest.ports import EventSink
from central.ingest.worker import IngestWorker
from central.parcels.ingest import ParcelIngest
from central.registry.queries import device_info
from edge.contract import AccessDecision, Envelope

logger = logging.getLogger(__name__)


def event_item(envelope: Envelope) -> dict[str, object]:
    """An event as the live feed carries it (no payload details beyond the decision)."""
    payload = envelope.payload
    decision = payload if isinstance(payload, AccessDecision) else None
    return {
        "event_id": str(envelope.event_id),
        "site_id": envelope.site_id,
        "device_id": envelope.device_id,
        "kind": envelope.kind,
        "occurred_at": envelope.occurred_at.isoformat(),
        "gate_id": decision.gate_id if decision else None,
        "decision": decision.decision if decision else None,
        "method": decision.method if decision else None,
    }


def feed_events(sink: EventSink) -> AfterCommit:
    """An after-commit hook handing each new event to the live feed."""

    def publish(events: Sequence[Envelope]) -> None:
        for envelope in events:
            sink.publish("event", event_item(envelope))

    return publish


@dataclass
class IngestRuntime:
    """The running parts; ``start`` and ``stop`` them together."""

    worker: IngestWorker
    alarms: AlarmService
    gallery: GalleryPublisher
    gallery_client: MqttPublisher

    def start(self) -> None:
        """Start publishing galleries, the periodic checks, then receiving events."""
        self.gallery.watch_commits()
        self.gallery.start()
        self.alarms.start()
        self.worker.start()

    def stop(self) -> None:
        """Stop receiving first (storing what is in hand), then the rest."""
        self.worker.stop()
        self.alarms.stop()
        self.gallery.stop()
        self.gallery_client.close()


def build_ingest(
    settings: CentralSettings,
    secrets: CentralSecrets,
    sessions: sessionmaker[Session],
    sink: EventSink | None = None,
) -> IngestRuntime:
    """Compose a worker from the settings; ``sink`` is the process's live feed, if it has one."""
    alarms = AlarmService(sessions, settings.rules, sink)
    parcels = ParcelIngest(sessions, settings.rules.parcels, sink)
    hooks: list[AfterCommit] = [alarms.on_events, parcels.on_events]
    if sink is not None:
        hooks.insert(0, feed_events(sink))
    worker = IngestWorker(
        broker_target(settings.mqtt),
        IngestPipeline(sessions, device_info, hooks, [parcels.on_rejected]),
        settings.ingest,
        on_backlog=alarms.on_backlog,
        subscription=event_subscription(settings.mqtt),
    )
    gallery, client = gallery_publisher(settings, secrets, sessions, "gallery")
    return IngestRuntime(worker, alarms, gallery, client)
