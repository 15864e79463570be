"""Payloads of the events edge nodes publish. Each carries its ``kind``; none carries a face."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


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
    """The node's outbox was full and dropped events by its configured policy (audited)."""

    kind: Literal["outbox.dropped"] = "outbox.dropped"
    dropped: int
    policy: Literal["drop_oldest", "refuse_new"]
    first_event_id: str | None = None
    last_event_id: str | None = None


EventPayload = Annotated[
    AccessDecision | DeviceStatus | CameraStatus | Heartbeat | GalleryApplied | OutboxDropped,
    Field(discriminator="kind"),
]

EVENT_KINDS: tuple[str, ...] = (
    "access.decision",
    "device.status",
    "camera.status",
    "device.heartbeat",
    "gallery.applied",
    "outbox.dropped",
)
