"""Registries: governance hierarchy, compounds and gates, outlets, devices, households, people."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, utcnow

NodeLevel = Literal["city", "district", "street", "community"]
DeviceKind = Literal["gate", "outlet"]
LEVELS: tuple[NodeLevel, ...] = ("city", "district", "street", "community")


def new_id() -> str:
    """A fresh object id, safe inside MQTT topics."""
    return uuid.uuid4().hex


class HierarchyNode(Base):
    """A node of the governance hierarchy; ``path`` is ``/root-id/…/own-id/`` for scope checks."""

    __tablename__ = "hierarchy_nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("hierarchy_nodes.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Compound(Base):
    """A residential compound under a community node."""

    __tablename__ = "compounds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(ForeignKey("hierarchy_nodes.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Gate(Base):
    """One gate of a compound."""

    __tablename__ = "gates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outlet(Base):
    """A courier outlet under a community node."""

    __tablename__ = "outlets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[str] = mapped_column(ForeignKey("hierarchy_nodes.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Device(Base):
    """A gate or outlet node: its public signing key and MQTT account (password hashed)."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    gate_id: Mapped[str | None] = mapped_column(ForeignKey("gates.id"))
    public_key: Mapped[str] = mapped_column(String(64))
    mqtt_username: Mapped[str] = mapped_column(String(100), unique=True)
    mqtt_password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Household(Base):
    """A household (flat) of a compound."""

    __tablename__ = "households"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Resident(Base):
    """A resident; the ID number is kept only as a keyed hash and a masked form."""

    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[date | None]
    moved_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visitor(Base):
    """A visitor of a resident, admitted within a validity window."""

    __tablename__ = "visitors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    host_resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[date | None]
    gate_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssuedPass(Base):
    """A visitor QR pass central signed, kept so that it can be revoked at the gates."""

    __tablename__ = "issued_passes"

    pass_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"), index=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    valid_until: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_version: Mapped[int | None] = mapped_column(
        index=True, doc="The gallery version that revoked it (None: in force)."
    )


class Credential(Base):
    """A card or PIN of a person, kept only as the compound's keyed hash."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    value_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
