"""The outlet node, composed from its configuration.

Desk camera (and X-ray camera, if separate) → ``OutletInspector`` → one signed
``parcel.inspection`` event per parcel through the gate's ``EventPublisher`` (SQLite outbox,
QoS 1). ID-card readers feed the sender desk; evidence is pulled by central from the gate's
``EvidenceServer``. Camera workers and periodic duties are the gate's, reused.
"""

from __future__ import annotations

import logging
import threading
import time

from edge.capture.camera import Camera, Frame
from edge.capture.config import CameraConfig
from edge.contract import CameraStatus, EventPayload, Heartbeat, ParcelInspection, load_private_key
from edge.credentials.readers import CredentialReader
from edge.events.outbox import OutboxError
from edge.events.publisher import EventPublisher
from edge.gate.app import software_version
from edge.gate.server import EvidenceServer
from edge.gate.vision import FaceDecision
from edge.gate.workers import CameraWorker, Ticker
from edge.outlet.config import OutletConfig
from edge.outlet.detector import load_detector
from edge.outlet.evidence import ParcelEvidenceStore
from edge.outlet.inspector import OutletInspector
from edge.outlet.sender import HttpSenderReader, SenderDesk, StreamSenderReader
from edge.outlet.waybill import RapidOcrReader, TextReader

log = logging.getLogger(__name__)

_PRUNE_PERIOD_S = 3600.0
_SETTLE_PERIOD_S = 1.0


class _Feed:
    """Adapts one camera to the gate's ``CameraWorker``: frames go to the node."""

    def __init__(self, node: OutletNode, xray: bool) -> None:
        self._node = node
        self._xray = xray

    def process(self, frame: Frame) -> list[FaceDecision]:
        self._node.on_frame(frame, self._xray)
        return []


class OutletNode:
    """A running outlet node; ``start`` then ``stop``."""

    def __init__(self, config: OutletConfig, ocr: TextReader | None = None) -> None:
        self.config = config
        self.started_s = time.monotonic()
        self.counters = {"parcels": 0, "non_compliant": 0, "events_refused": 0}
        self.publisher = EventPublisher(
            config.transport,
            load_private_key(config.device.key_file.read_text(encoding="ascii")),
            config.device.site_id,
            config.device.device_id,
        )
        self.publisher.software_version = software_version()
        self.evidence = ParcelEvidenceStore(config.evidence)
        key = config.sender.hash_key_file.read_bytes().strip()
        self.sender = SenderDesk(key, config.sender.lead_s)
        if ocr is None and config.waybill.ocr:
            ocr = RapidOcrReader()
        detector = load_detector(config.xray.detector)
        self.inspector = OutletInspector(config, self.sender, self.evidence, ocr, detector)
        self._lock = threading.Lock()
        self.workers = [self._worker(config.desk_camera, xray=False)]
        if config.xray_camera is not None:
            self.workers.append(self._worker(config.xray_camera, xray=True))
        self.readers = self._readers()
        self.server = self._evidence_server()
        self._tickers = [
            Ticker("heartbeat", config.heartbeat_interval_s, self.heartbeat),
            Ticker("evidence-prune", _PRUNE_PERIOD_S, self.evidence.prune),
            Ticker("xray-windows", _SETTLE_PERIOD_S, self.settle),
        ]

    def start(self) -> None:
        """Connect, start cameras, readers, the evidence endpoint and the tickers."""
        self.publisher.start()
        for part in [*self.workers, *self.readers, *self._tickers]:
            part.start()
        if self.server is not None:
            self.server.start()
        self.evidence.prune()
        log.info("event=outlet_started device=%s", self.config.device.device_id)

    def stop(self) -> None:
        """Stop everything; parcels still waiting for X-ray are published as they stand."""
        for part in [*self.readers, *self.workers, *self._tickers]:
            part.stop()
        with self._lock:
            done = self.inspector.flush(time.monotonic())
        self._publish_all(done)
        if self.server is not None:
            self.server.stop()
        self.publisher.stop()

    def on_frame(self, frame: Frame, xray: bool) -> None:
        """Run the checks on one frame and publish the parcels that became final."""
        with self._lock:
            if xray:
                done = self.inspector.xray_frame(frame.image_rgb, frame.grabbed_monotonic_s)
            else:
                done = self.inspector.desk_frame(
                    frame.image_rgb, frame.grabbed_monotonic_s, frame.grabbed_at
                )
        self._publish_all(done)

    def settle(self) -> None:
        """Publish parcels whose X-ray window closed, even while no frame arrives."""
        with self._lock:
            done = self.inspector.due(time.monotonic())
        self._publish_all(done)

    def heartbeat(self) -> None:
        """Publish a heartbeat."""
        self.publish(
            Heartbeat(
                uptime_s=round(time.monotonic() - self.started_s, 3),
                outbox_depth=self.publisher.outbox_depth,
                outbox_dropped_total=self.publisher.dropped_total,
            )
        )

    def publish(self, payload: EventPayload) -> None:
        """Store a signed event in the outbox; a refusal is counted and logged, never raised."""
        try:
            self.publisher.publish(payload)
        except OutboxError as exc:
            self.counters["events_refused"] += 1
            log.error("event=event_refused kind=%s error=%s", payload.kind, exc)

    def metrics(self) -> dict[str, float]:
        """Counters for the /metrics endpoint."""
        values = {f"outlet_{k}_total": float(v) for k, v in self.counters.items()}
        values["outbox_depth"] = float(self.publisher.outbox_depth)
        values["evidence_write_failures_total"] = float(self.evidence.failures)
        values["sender_reads_rejected_total"] = float(self.sender.rejected)
        values["waybill_decode_attempts_total"] = float(self.inspector.waybill.decode_attempts)
        values["desk_frames_total"] = float(self.inspector.frames)
        for worker in self.workers:
            label = f'{{camera="{worker.camera.config.camera_id}"}}'
            values[f"camera_up{label}"] = float(worker.camera.state == "ok")
            values[f"camera_frames_failed_total{label}"] = float(worker.frames_failed)
        return values

    def _publish_all(self, done: list[ParcelInspection]) -> None:
        for payload in done:
            self.counters["parcels"] += 1
            self.counters["non_compliant"] += bool(payload.flags)
            self.publish(payload)

    def _worker(self, camera_config: CameraConfig, xray: bool) -> CameraWorker:
        camera = Camera(camera_config, self._on_camera_status)
        return CameraWorker(camera, _Feed(self, xray), lambda _decision: None)

    def _on_camera_status(self, status: CameraStatus) -> None:
        self.publish(status)

    def _readers(self) -> list[CredentialReader]:
        settings = self.config.sender
        readers: list[CredentialReader] = []
        if settings.stdin:
            readers.append(StreamSenderReader(self.sender))
        if settings.http_port is not None:
            readers.append(HttpSenderReader(self.sender, settings.http_host, settings.http_port))
        return readers

    def _evidence_server(self) -> EvidenceServer | None:
        settings = self.config.evidence.server
        if not settings.enabled:
            return None
        if settings.token_file is None:
            raise ValueError("evidence.server.token_file is required when the server is enabled")
        token = settings.token_file.read_text(encoding="utf-8").strip()
        return EvidenceServer(self.evidence, token, self.metrics, (settings.host, settings.port))
