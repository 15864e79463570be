"""Tables of what devices report and what central concludes: events, rejections, device health,
gallery versions and each gate's applied version, and alarms with their comments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from central.db.base import Base, utcnow

ALARM_STATES = ("active", "acknowledged", "cleared")
ALARM_LEVELS = ("info", "warning", "critical")


class Event(Base):
    """One event an edge node published, stored once by its event id."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_site_kind_time", "site_id", "kind", "occurred_at"),
        Index("ix_events_person_time", "person_id", "occurred_at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    site_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(String(64))
    gate_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class IngestRejection(Base):
    """A message ingest refused, with the reason it was counted under."""

    __tablename__ = "ingest_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(256))
    detail: Mapped[str] = mapped_column(Text, default="")


class DeviceHealth(Base):
    """The latest liveness and camera state each device reported."""

    __tablename__ = "device_health"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    last_heartbeat: Mapped[datetime | None]
    last_seen: Mapped[datetime]
    online: Mapped[bool] = mapped_column(default=True)
    outbox_depth: Mapped[int] = mapped_column(default=0)
    camera_state: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    software_version: Mapped[str] = mapped_column(String(64), default="")


class GalleryVersion(Base):
    """One version of a compound's gallery: who changed or was deleted in it."""

    __tablename__ = "gallery_versions"

    compound_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    deleted: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[bool] = mapped_column(default=False)


class DeviceGalleryState(Base):
    """The gallery version a gate last reported applied."""

    __tablename__ = "device_gallery_state"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(String(64), index=True)
    applied_version: Mapped[int]
    reported_at: Mapped[datetime]


class Alarm(Base):
    """A condition an operator must see; repeats update it while it is not cleared."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index(
            "uq_alarms_open_subject",
            "type",
            "subject",
            unique=True,
            sqlite_where=text("state != 'cleared'"),
            postgresql_where=text("state != 'cleared'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[str | None] = mapped_column(String(64), index=True, doc="None: central.")
    gate_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), doc="What repeats are matched on.")
    detail: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}", doc="The detail's facts by name, for wording."
    )
    state: Mapped[str] = mapped_column(String(16), default="active")
    assignee: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=1)
    comments: Mapped[list[AlarmComment]] = relationship(
        back_populates="alarm", order_by="AlarmComment.id", cascade="all, delete-orphan"
    )


class AlarmComment(Base):
    """A note on an alarm, or a record of a state change."""

    __tablename__ = "alarm_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    alarm: Mapped[Alarm] = relationship(back_populates="comments")
