"""The outlet node, composed from its configuration.

Desk camera (and X-ray camera, if separate) → ``OutletInspector`` → one signed
``parcel.inspection`` event per parcel through the ``EventPublisher`` (SQLite outbox,
QoS 1). ID-card readers feed the sender desk; evidence is pulled by central from the node's
``EvidenceServer``. Camera workers, periodic duties and health reports are ``edge.node``'s.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

from edge.capture.camera import Camera, Frame
from edge.capture.config import CameraConfig
from edge.contract import CameraStatus, EventPayload, ParcelInspection
from edge.credentials.readers import CredentialReader
from edge.node.health import Counters, camera_metrics, heartbeat, publish_or_log
from edge.node.identity import open_publisher
from edge.node.lifecycle import start_parts, stop_parts
from edge.node.server import open_evidence_server
from edge.node.workers import CameraWorker, Ticker
from edge.outlet.config import OutletConfig
from edge.outlet.detector import load_detector
from edge.outlet.evidence import ParcelEvidenceStore
from edge.outlet.inspector import OutletInspector
from edge.outlet.sender import HttpSenderReader, SenderDesk, StreamSenderReader
from edge.outlet.waybill import RapidOcrReader, TextReader

log = logging.getLogger(__name__)

_PRUNE_PERIOD_S = 3600.0
_SETTLE_PERIOD_S = 1.0
_METRICS_PREFIX = "anju_outlet_"


class OutletNode:
    """A running outlet node; ``start`` then ``stop``."""

    def __init__(self, config: OutletConfig, ocr: TextReader | None = None) -> None:
        self.config = config
        self.started_s = time.monotonic()
        self.counters = Counters("parcels", "non_compliant", "events_refused")
        self.publisher = open_publisher(config.device, config.transport)
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
        self.server = open_evidence_server(
            config.evidence.server, self.evidence, self.metrics, _METRICS_PREFIX
        )
        self._tickers = [
            Ticker("heartbeat", config.heartbeat_interval_s, self.heartbeat),
            Ticker("evidence-prune", _PRUNE_PERIOD_S, self.evidence.prune),
            Ticker("xray-windows", _SETTLE_PERIOD_S, self.settle),
        ]

    def start(self) -> None:
        """Connect, start cameras, readers, the evidence endpoint and the tickers."""
        start_parts(self.publisher, [*self.workers, *self.readers, *self._tickers], self.server)
        self.evidence.prune()
        log.info("event=outlet_started device=%s", self.config.device.device_id)

    def stop(self) -> None:
        """Stop everything; parcels still waiting for X-ray are published as they stand."""
        inputs = [*self.readers, *self.workers, *self._tickers]
        stop_parts(inputs, self.server, self.publisher, drain=self._flush)

    def on_frame(self, frame: Frame, xray: bool) -> None:
        """Run the checks on one frame and publish the parcels that became final."""
        self._publish_all(self.inspect(frame, xray))

    def inspect(self, frame: Frame, xray: bool) -> list[ParcelInspection]:
        """Run the checks on one desk (or X-ray) frame; the parcels that became final."""
        with self._lock:
            if xray:
                return self.inspector.xray_frame(frame.image_rgb, frame.grabbed_monotonic_s)
            return self.inspector.desk_frame(
                frame.image_rgb, frame.grabbed_monotonic_s, frame.grabbed_at
            )

    def settle(self) -> None:
        """Publish parcels whose X-ray window closed, even while no frame arrives."""
        with self._lock:
            done = self.inspector.due(time.monotonic())
        self._publish_all(done)

    def heartbeat(self) -> None:
        """Publish a heartbeat."""
        self.publish(heartbeat(self.publisher, self.started_s))

    def publish(self, payload: EventPayload) -> None:
        """Store a signed event in the outbox; a refusal is counted and logged, never raised."""
        if not publish_or_log(self.publisher, payload):
            self.counters.add("events_refused")

    def metrics(self) -> dict[str, float]:
        """Counters for the /metrics endpoint."""
        values = self.counters.metrics()
        values["outbox_depth"] = float(self.publisher.outbox_depth)
        values["evidence_write_failures_total"] = float(self.evidence.failures)
        values["sender_reads_rejected_total"] = float(self.sender.rejected)
        values["waybill_decode_attempts_total"] = float(self.inspector.waybill.decode_attempts)
        values["desk_frames_total"] = float(self.inspector.frames)
        return values | camera_metrics(self.workers)

    def _flush(self) -> None:
        with self._lock:
            done = self.inspector.flush(time.monotonic())
        self._publish_all(done)

    def _publish_all(self, done: list[ParcelInspection]) -> None:
        for payload in done:
            self._publish_parcel(payload)

    def _publish_parcel(self, payload: ParcelInspection) -> None:
        self.counters.add("parcels")
        self.counters.add("non_compliant", bool(payload.flags))
        self.publish(payload)

    def _worker(self, camera_config: CameraConfig, xray: bool) -> CameraWorker[ParcelInspection]:
        camera = Camera(camera_config, self._on_camera_status)
        return CameraWorker(camera, partial(self.inspect, xray=xray), self._publish_parcel)

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
