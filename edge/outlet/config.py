"""The outlet node's whole configuration, validated at start-up with any bad key named.

Regions are ``[x0, y0, x1, y1]`` fractions of the frame, so one file fits any resolution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.capture.config import CameraConfig
from edge.comms.config import TransportConfig
from edge.node.evidence import EvidenceConfig
from edge.node.identity import NodeIdentity
from models.config_file import load_config

Region = tuple[float, float, float, float]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_region(region: Region, name: str) -> None:
    x0, y0, x1, y1 = region
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ValueError(f"{name} must be [x0, y0, x1, y1] fractions with x0 < x1, y0 < y1")


class OutletDevice(NodeIdentity):
    """Who this node is; ``site_id`` is the outlet's compound or district."""

    outlet_id: str = Field(min_length=1, max_length=64, description="The outlet in events.")


class DeskConfig(_Section):
    """The inspection desk as the desk camera sees it."""

    desk_id: str = Field(default="desk-1", min_length=1, max_length=64)
    region: Region = Field(default=(0.05, 0.15, 0.7, 0.95), description="The desk top.")
    static_strip: Region = Field(
        default=(0.0, 0.0, 1.0, 0.12), description="Never-occupied strip for shake and gain."
    )
    analysis_width_px: int = Field(default=320, ge=96, le=1280, description="Working width.")
    diff_threshold: int = Field(default=28, ge=1, le=255, description="Grey change per pixel.")
    occupied_fraction: float = Field(default=0.04, gt=0, lt=1, description="Enter above this.")
    empty_fraction: float = Field(default=0.015, gt=0, lt=1, description="Leave below this.")
    enter_s: float = Field(default=0.5, ge=0, description="Occupied this long opens a session.")
    leave_s: float = Field(default=1.0, ge=0, description="Empty this long ends it.")
    settle_s: float = Field(default=0.5, ge=0, description="Still this long: box learnt.")
    reference_rate: float = Field(default=0.05, gt=0, le=1, description="Empty-desk learning.")

    @model_validator(mode="after")
    def _valid(self) -> DeskConfig:
        _check_region(self.region, "desk.region")
        _check_region(self.static_strip, "desk.static_strip")
        if self.empty_fraction >= self.occupied_fraction:
            raise ValueError("desk.empty_fraction must be below desk.occupied_fraction")
        return self


class InspectionConfig(_Section):
    """When a box counts as opened and inspected."""

    motion_fraction: float = Field(default=0.02, gt=0, lt=1, description="Box pixels moving.")
    opened_fraction: float = Field(default=0.25, gt=0, lt=1, description="Box pixels changed.")
    opened_still_s: float = Field(default=1.0, ge=0, description="Change held while still.")
    short_inspection_s: float = Field(default=8.0, gt=0, description="SHORT_INSPECTION below.")
    missing_inspection_s: float = Field(default=1.0, ge=0, description="MISSING below.")


class WaybillConfig(_Section):
    """Reading the waybill label (Code 128 or QR; OCR of the number as a fallback)."""

    decode_every_n: int = Field(default=3, ge=1, description="Try every n-th desk frame.")
    min_sharpness: float = Field(default=30.0, ge=0, description="Laplacian variance floor.")
    votes_needed: int = Field(default=2, ge=1, description="Agreeing reads to accept.")
    number_pattern: str = Field(default=r"^[A-Z0-9]{8,24}$", description="A valid number.")
    ocr: bool = Field(default=True, description="OCR the sharpest crops when no code reads.")
    ocr_frames: int = Field(default=3, ge=1, le=10, description="Crops kept for OCR.")


class SenderConfig(_Section):
    """Where the sender's ID number comes from and how it is protected."""

    hash_key_file: Path = Field(description="Secret key (text) for the HMAC of ID numbers.")
    stdin: bool = Field(default=False, description="Read 'id:NUMBER' lines from stdin.")
    http_port: int | None = Field(default=None, ge=0, le=65535, description="POST /sender.")
    http_host: str = Field(default="127.0.0.1")
    lead_s: float = Field(default=300, ge=0, description="A read this long before counts.")


class DetectorConfig(_Section):
    """An ONNX prohibited-item detector with YOLO-style output (none ships)."""

    type: Literal["yolo_onnx"] = "yolo_onnx"
    model_path: Path = Field(description="The .onnx file.")
    labels: list[str] = Field(min_length=1, description="Class names in output order.")
    input_size_px: int = Field(default=640, ge=32)
    score_threshold: float = Field(default=0.5, gt=0, lt=1)


class XrayConfig(_Section):
    """The X-ray machine's belt exit (or its video output) and the optional detector."""

    camera: Literal["desk", "xray"] = Field(default="desk", description="Which camera sees it.")
    region: Region = Field(default=(0.75, 0.3, 1.0, 0.9), description="Belt exit region.")
    window_s: float = Field(default=60, gt=0, description="Passage must come this soon.")
    busy_fraction: float = Field(default=0.15, gt=0, lt=1, description="Parcel on the belt.")
    busy_s: float = Field(default=0.3, ge=0, description="Held this long: a passage.")
    detector: DetectorConfig | None = None

    @model_validator(mode="after")
    def _valid(self) -> XrayConfig:
        _check_region(self.region, "xray.region")
        return self


class ClipConfig(_Section):
    """The short clip kept per parcel."""

    enabled: bool = True
    every_n: int = Field(default=5, ge=1, description="Keep every n-th frame at first.")
    max_frames: int = Field(default=60, ge=2, description="When full, every other one goes.")
    width_px: int = Field(default=320, ge=64, description="Clip frames are this wide.")


class OutletConfig(_Section):
    """An outlet node: desk camera, optional X-ray camera, checks, evidence and transport."""

    device: OutletDevice
    desk_camera: CameraConfig
    xray_camera: CameraConfig | None = None
    desk: DeskConfig = Field(default_factory=DeskConfig)
    inspection: InspectionConfig = Field(default_factory=InspectionConfig)
    waybill: WaybillConfig = Field(default_factory=WaybillConfig)
    sender: SenderConfig
    xray: XrayConfig = Field(default_factory=XrayConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    clip: ClipConfig = Field(default_factory=ClipConfig)
    transport: TransportConfig = Field(default_factory=TransportConfig)
    heartbeat_interval_s: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _cameras(self) -> OutletConfig:
        if (self.xray.camera == "xray") != (self.xray_camera is not None):
            raise ValueError("xray.camera 'xray' and xray_camera go together")
        return self


def load_outlet_config(path: Path) -> OutletConfig:
    """The outlet configuration at ``path``; ``ModelError`` naming any bad key."""
    return load_config(path, OutletConfig)
