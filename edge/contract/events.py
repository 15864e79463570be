"""Payloads of the events edge nodes publish. Each carries its ``kind``; none carries a face."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Decision = Literal["granted", "denied", "unknown"]
Method = Literal["face", "qr", "card", "pin", "guard"]
Liveness = Literal["passed", "failed", "not_required", "not_checked"]


class AccessDecision(_Payload):
    """A gate's decision on one person at one moment."""

    kind: Literal["access.decision"] = "access.decision"
    gate_id: str
    decision: Decision
    reason: str = Field(description="Why, e.g. 'match', 'no_match', 'outside_schedule'.")
    method: Method
    person_id: str | None = Field(default=None, description="Enrolled resident or visitor.")
    track_id: str | None = Field(default=None, description="Anonymous id of an unknown face.")
    score: float | None = Field(default=None, description="Match similarity, face only.")
    liveness: Liveness = "not_checked"
    evidence_ids: list[str] = Field(default_factory=list, description="Snapshots kept on the node.")
    gallery_version: int | None = None


class DeviceStatus(_Payload):
    """Online when a node connects; the broker publishes offline (last will) when it vanishes."""

    kind: Literal["device.status"] = "device.status"
    state: Literal["online", "offline"]
    software_version: str = ""
    gallery_version: int | None = None


class CameraStatus(_Payload):
    """A camera's health changed."""

    kind: Literal["camera.status"] = "camera.status"
    camera_id: str
    state: Literal["ok", "stalled", "disconnected", "ended", "corrupt"]
    frames_decoded: int = 0
    frames_dropped: int = 0
    frames_undecodable: int = 0
    detail: str = ""


class Heartbeat(_Payload):
    """Periodic liveness and queue state of a node."""

    kind: Literal["device.heartbeat"] = "device.heartbeat"
    uptime_s: float
    outbox_depth: int
    outbox_dropped_total: int = 0
    gallery_version: int | None = None


class GalleryApplied(_Payload):
    """A gate applied a gallery version (snapshot or delta)."""

    kind: Literal["gallery.applied"] = "gallery.applied"
    compound_id: str
    version: int


class OutboxDropped(_Payload):
    """Events the node's outbox did not keep (audited): dropped or refused by its configured
    policy when the quota was reached (``quota``), or refused because the outbox could not
    store them, e.g. on a full disk (``storage_error``)."""

    kind: Literal["outbox.dropped"] = "outbox.dropped"
    dropped: int
    policy: Literal["drop_oldest", "refuse_new"]
    reason: Literal["quota", "storage_error"] = "quota"
    first_event_id: str | None = None
    last_event_id: str | None = None


ParcelFlag = Literal[
    "NO_WAYBILL",
    "NO_REAL_NAME",
    "NOT_OPENED",
    "MISSING_INSPECTION",
    "SHORT_INSPECTION",
    "NO_XRAY",
    "XRAY_ALARM",
]
WaybillMethod = Literal["barcode", "qr", "ocr"]
SenderStatus = Literal["verified", "missing", "invalid"]


class ParcelInspection(_Payload):
    """One parcel's inspection at an outlet desk: real name, open-box inspection and X-ray.

    The sender's ID number never travels: only its keyed hash and a masked form."""

    kind: Literal["parcel.inspection"] = "parcel.inspection"
    outlet_id: str
    desk_id: str
    parcel_session_id: str = Field(description="Id of the parcel's session on the desk.")
    waybill_number: str | None = None
    waybill_method: WaybillMethod | None = None
    sender_status: SenderStatus
    sender_id_hash: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256 of the ID number."
    )
    sender_id_masked: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}\*{10}[0-9]{3}[0-9X]$",
        description="e.g. 1101**********123X",
    )
    opened: bool
    inspection_s: float = Field(ge=0, description="Seconds of hands at work inside the open box.")
    xray_passed: bool
    xray_s_after_desk: float | None = Field(default=None, ge=0)
    flags: list[ParcelFlag] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list, description="Keyframes and clip.")
    started_at: AwareDatetime
    ended_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> ParcelInspection:
        if (self.waybill_number is None) != (self.waybill_method is None):
            raise ValueError("waybill_number and waybill_method go together")
        if self.ended_at < self.started_at:
            raise ValueError("ended_at precedes started_at")
        if self.sender_status == "verified" and self.sender_id_hash is None:
            raise ValueError("a verified sender needs sender_id_hash")
        return self


EventPayload = Annotated[
    AccessDecision
    | DeviceStatus
    | CameraStatus
    | Heartbeat
    | GalleryApplied
    | OutboxDropped
    | ParcelInspection,
    Field(discriminator="kind"),
]

EVENT_KINDS: tuple[str, ...] = (
    "access.decision",
    "device.status",
    "camera.status",
    "device.heartbeat",
    "gallery.applied",
    "outbox.dropped",
    "parcel.inspection",
)
