"""The gate node, composed from its configuration.

Per camera: frame → faces → track → vote → policy → relay pulse + ``access.decision``. QR
passes, cards, PINs and the guard's remote-open go through the same policy. Decisions and the
relay are local, so the node keeps working offline; events wait in the outbox. Central's
gallery messages update the index before the next match; each applied version is reported.
"""

from __future__ import annotations

import logging
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.capture.camera import Camera
from edge.contract import (
    AccessDecision,
    CameraStatus,
    DeviceStatus,
    EventPayload,
    GalleryApplied,
    gallery_topic,
    load_public_key,
)
from edge.credentials.attempt import CredentialAttempt
from edge.credentials.checks import CardPinChecker, QrVerifier
from edge.credentials.config import build_readers
from edge.credentials.desk import CredentialDesk
from edge.credentials.remote_open import RemoteOpenVerifier
from edge.gallery.config import open_gallery
from edge.gallery.messages import GalleryError
from edge.gate.config import GateConfig
from edge.gate.policy import AccessRequest, Policy, Verdict
from edge.gate.vision import FaceDecision, GateVision
from edge.io.relay import RelayDriver, build_relay
from edge.liveness.pad import load_attack_detector
from edge.node.evidence import EvidenceStore
from edge.node.health import Counters, camera_metrics, heartbeat, publish_or_log
from edge.node.identity import open_publisher
from edge.node.lifecycle import start_parts, stop_parts
from edge.node.server import open_evidence_server
from edge.node.workers import CameraWorker, Ticker
from edge.recognize.search import TemplateIndex
from models.engine import FaceEngine
from models.zoo import open_engine

log = logging.getLogger(__name__)

_PRUNE_PERIOD_S = 3600.0
_METRICS_PREFIX = "anju_gate_"


class GateNode:
    """A running gate node; ``start`` then ``stop``."""

    def __init__(
        self, config: GateConfig, engine: FaceEngine | None = None, relay: RelayDriver | None = None
    ) -> None:
        self.config = config
        self.started_s = time.monotonic()
        self.counters = Counters("decisions", "grants", "events_refused", "gallery_errors")
        device = config.device
        central_key = load_public_key(config.gallery.central_public_key)
        self.engine = engine or open_engine(config.face_engine)
        self.index = TemplateIndex(
            self.engine.dimension, config.index_backend, config.index_precision
        )
        self.gallery = open_gallery(config.gallery, device.site_id, self.index)
        self.publisher = open_publisher(device, config.transport)
        self.publisher.gallery_version = self.gallery.version
        self.publisher.on_message(self.on_message)
        self.relay = relay or build_relay(config.relay)
        self.policy = Policy(config.policy)
        self.evidence = EvidenceStore(config.evidence)
        self._build_credentials(central_key)
        self.workers = [self._camera_worker(i) for i in range(len(config.cameras))]
        self.server = open_evidence_server(
            config.evidence.server, self.evidence, self.metrics, _METRICS_PREFIX
        )
        self._tickers = [
            Ticker("heartbeat", config.heartbeat_interval_s, self.heartbeat),
            Ticker("evidence-prune", _PRUNE_PERIOD_S, self.evidence.prune),
        ]

    def start(self) -> None:
        """Connect, start cameras, readers, the evidence endpoint and the heartbeat."""
        start_parts(self.publisher, [*self.workers, *self.readers, *self._tickers], self.server)
        self.evidence.prune()
        log.info("event=gate_started device=%s cameras=%d", self.config.device.device_id,
                 len(self.workers))  # fmt: skip

    def stop(self) -> None:
        """Stop everything; queued events stay in the outbox for the next start."""
        stop_parts([*self.readers, *self.workers, *self._tickers], self.server, self.publisher)
        self.gallery.close()

    def on_face(self, decision: FaceDecision) -> None:
        """Act on a face decision: open if granted (first), keep the evidence, report."""
        self._act(decision.gate_id, decision.verdict)
        evidence_id = None
        if decision.evidence_rgb is not None:
            evidence_id = self.evidence.save(decision.evidence_rgb)
        matched = decision.vote.person_id
        self.publish(
            AccessDecision(
                gate_id=decision.gate_id,
                decision=decision.verdict.decision,
                reason=decision.verdict.reason,
                method="face",
                person_id=matched,
                track_id=None if matched else decision.track_id,
                score=decision.vote.score,
                liveness=decision.liveness,
                evidence_ids=[evidence_id] if evidence_id else [],
                gallery_version=self.gallery.version,
            )
        )

    def on_credential(self, attempt: CredentialAttempt) -> None:
        """Act on a QR pass, card, PIN or guard remote-open through the gate policy."""
        person = self.gallery.person(attempt.person_id) if attempt.person_id else None
        request = AccessRequest(
            gate_id=attempt.gate_id,
            method=attempt.method,
            at=attempt.at,
            person_id=attempt.person_id,
            person=person,
            credential_ok=attempt.accepted,
            credential_reason=attempt.reason,
        )
        verdict = self.policy.evaluate(request)
        if attempt.gate_id in self.config.device.gate_ids:
            self._act(attempt.gate_id, verdict)
        self.publish(
            AccessDecision(
                gate_id=attempt.gate_id or "unknown",
                decision=verdict.decision,
                reason=verdict.reason,
                method=attempt.method,
                person_id=attempt.person_id,
                liveness="not_required",
                gallery_version=self.gallery.version,
            )
        )

    def on_message(self, topic: str, data: bytes) -> None:
        """Central's gallery messages and commands for this device."""
        if topic == gallery_topic(self.config.device.site_id):
            self._apply_gallery(data)
        elif topic.endswith("/cmd/open") and self.config.credentials.remote_open:
            self.on_credential(self.remote_open.check(data))
        elif topic.endswith("/cmd/gallery_resync"):
            self.publish(self._device_status())
        else:
            log.warning("event=unexpected_message topic=%s bytes=%d", topic, len(data))

    def publish(self, payload: EventPayload) -> None:
        """Queue an event; a refusal by the outbox is logged and counted, never raised."""
        if not publish_or_log(self.publisher, payload):
            self.counters.add("events_refused")

    def heartbeat(self) -> None:
        """Publish a heartbeat."""
        self.publish(heartbeat(self.publisher, self.started_s, self.gallery.version))

    def metrics(self) -> dict[str, float]:
        """Counters for the /metrics endpoint."""
        values = self.counters.metrics()
        values["outbox_depth"] = float(self.publisher.outbox_depth)
        values["gallery_version"] = float(self.gallery.version)
        values["evidence_write_failures_total"] = float(self.evidence.failures)
        return values | camera_metrics(self.workers)

    def _act(self, gate_id: str, verdict: Verdict) -> None:
        self.counters.add("decisions")
        if verdict.decision == "granted":
            self.counters.add("grants")
            self.relay.pulse(gate_id, self.config.relay.pulse_s)

    def _apply_gallery(self, data: bytes) -> None:
        try:
            applied = self.gallery.apply(data)
        except GalleryError as exc:
            self.counters.add("gallery_errors")
            log.warning("event=gallery_refused reason=%s detail=%s", exc.reason, exc)
            if exc.reason == "gap":
                self.publish(self._device_status())
            return
        self.publisher.gallery_version = applied
        self.publish(GalleryApplied(compound_id=self.config.device.site_id, version=applied))

    def _device_status(self) -> DeviceStatus:
        return DeviceStatus(
            state="online",
            software_version=self.publisher.software_version,
            gallery_version=self.gallery.version,
        )

    def _on_camera_status(self, status: CameraStatus) -> None:
        self.publish(status)

    def _build_credentials(self, central_key: Ed25519PublicKey) -> None:
        site = self.config.device.site_id
        credentials = self.config.credentials
        self.desk = CredentialDesk(
            QrVerifier(central_key, site, self.gallery),
            CardPinChecker(self.gallery),
            self.on_credential,
            credentials.methods,
        )
        self.readers = build_readers(credentials, self.desk)
        self.remote_open = RemoteOpenVerifier(
            central_key, tuple(self.config.device.gate_ids), credentials.remote_open_max_skew_s
        )

    def _camera_worker(self, position: int) -> CameraWorker[FaceDecision]:
        camera_config = self.config.cameras[position]
        vision = GateVision(
            self.engine,
            self.index,
            self.gallery.person,
            self.policy,
            (self.config.recognition, self.config.liveness),
            load_attack_detector(self.config.liveness.pad, self.config.face_engine.runtime),
        )
        camera = Camera(camera_config, self._on_camera_status)
        return CameraWorker(camera, vision.process, self.on_face)
