"""The gate node's whole configuration, validated at start-up with any bad key named."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.capture.config import CameraConfig
from edge.comms.config import TransportConfig
from edge.credentials.config import CredentialsConfig
from edge.gallery.config import GalleryConfig
from edge.gate.policy import PolicyConfig
from edge.gate.vision import RecognitionConfig
from edge.io.relay import RelayConfig
from edge.liveness.config import LivenessConfig
from edge.node.evidence import EvidenceConfig
from edge.node.identity import NodeIdentity
from edge.recognize.search import Backend, Precision
from models.config_file import load_config
from models.zoo import FaceEngineConfig


class DeviceConfig(NodeIdentity):
    """Who this node is; ``site_id`` is the compound whose gallery it holds."""

    gate_ids: list[str] = Field(min_length=1, description="The gates this node opens.")


class GateConfig(BaseModel):
    """A gate node: cameras, face engine, decisions, transport, gallery, credentials, relay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: DeviceConfig
    cameras: list[CameraConfig] = Field(default_factory=list, description="May be empty.")
    face_engine: FaceEngineConfig = Field(default_factory=FaceEngineConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    liveness: LivenessConfig = Field(default_factory=LivenessConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    transport: TransportConfig = Field(default_factory=TransportConfig)
    gallery: GalleryConfig
    credentials: CredentialsConfig = Field(default_factory=CredentialsConfig)
    relay: RelayConfig = Field(description="Gate opener driver (log, http, command, gpio).")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    heartbeat_interval_s: float = Field(default=30, gt=0, description="Heartbeat period.")
    index_backend: Backend = Field(default="auto", description="1:N search: auto, numpy, faiss.")
    index_precision: Precision = Field(
        default="sq8x2",
        description="FAISS only: sq8x2 (fastest, half of f32's memory, exact), f16 or f32.",
    )

    @model_validator(mode="after")
    def _consistent_cameras(self) -> GateConfig:
        ids = [camera.camera_id for camera in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique: {duplicates}")
        strangers = sorted({c.gate_id for c in self.cameras} - set(self.device.gate_ids))
        if strangers:
            raise ValueError(f"cameras watch gates not in device.gate_ids: {strangers}")
        return self


def load_gate_config(path: Path) -> GateConfig:
    """The gate configuration at ``path``; ``ModelError`` naming any bad key."""
    return load_config(path, GateConfig)
