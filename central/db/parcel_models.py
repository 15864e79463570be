"""Courier outlets' registries: waybills, senders (keyed hash and masked form only), parcels."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, utcnow
from central.db.registry_models import new_id

PARCEL_STATES = ("received", "accepted", "dispatched", "refused")


class Waybill(Base):
    """A waybill number, wherever it was seen; ``first_outlet_id`` is where it appeared first."""

    __tablename__ = "waybills"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    first_outlet_id: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class Sender(Base):
    """A sender known by the keyed hash of their ID number; only the masked form is shown."""

    __tablename__ = "senders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class Parcel(Base):
    """One parcel at one outlet: what its inspection established, and its acceptance state."""

    __tablename__ = "parcels"
    __table_args__ = (
        Index("uq_parcels_outlet_waybill", "outlet_id", "waybill_id", unique=True),
        Index("ix_parcels_outlet_started", "outlet_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    outlet_id: Mapped[str] = mapped_column(String(64))
    waybill_id: Mapped[str | None] = mapped_column(ForeignKey("waybills.id"), index=True)
    sender_id: Mapped[str | None] = mapped_column(ForeignKey("senders.id"), index=True)
    desk_id: Mapped[str] = mapped_column(String(64), default="")
    session_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="received")
    real_name: Mapped[bool] = mapped_column(default=False)
    opened: Mapped[bool] = mapped_column(default=False)
    inspection_s: Mapped[float] = mapped_column(Float, default=0.0)
    inspected: Mapped[bool] = mapped_column(default=False)
    xray: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime]
    inspected_at: Mapped[datetime | None] = mapped_column(doc="When the applied event occurred.")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
