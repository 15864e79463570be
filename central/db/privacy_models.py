"""Consent records, sealed face templates and the compounds' sealed gallery keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, utcnow
from central.db.registry_models import new_id


class ConsentRecord(Base):
    """A person's consent to face enrolment; withdrawn consent keeps its row for the record."""

    __tablename__ = "consent_records"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    person_kind: Mapped[str] = mapped_column(String(16))
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    retention_days: Mapped[int]
    notice_version: Mapped[str] = mapped_column(String(50))
    method: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime]
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_consent: Mapped[bool] = mapped_column(default=False)
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaceTemplate(Base):
    """One face template, AES-GCM sealed with the at-rest key (person id as associated data)."""

    __tablename__ = "face_templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    person_kind: Mapped[str] = mapped_column(String(16))
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    pack: Mapped[str] = mapped_column(String(64))
    embedder: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[int]
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GalleryKey(Base):
    """A compound's 32-byte gallery key, sealed with the at-rest key."""

    __tablename__ = "gallery_keys"

    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
