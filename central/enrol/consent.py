"""Consent records: what must be on file before a face is enrolled, and its withdrawal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.core.schemas import RequestModel
from central.db.privacy_models import ConsentRecord
from central.enrol.errors import EnrolmentRefused
from central.registry.identity import age_on

GUARDIAN_AGE = 14
ConsentMethod = Literal["paper", "electronic", "recorded_verbal"]


class ConsentCreate(RequestModel):
    """A consent to face enrolment as recorded at the property office."""

    purpose: str = Field(min_length=1, max_length=200, examples=["gate access"])
    retention_days: int = Field(ge=1, le=3650, description="How long templates may be kept.")
    notice_version: str = Field(min_length=1, max_length=50, description="Privacy notice shown.")
    method: ConsentMethod
    given_at: AwareDatetime
    guardian_name: str | None = Field(default=None, min_length=1, max_length=200)
    guardian_consent: bool = Field(default=False, description="Required under 14.")


def check_guardian(request: ConsentCreate, birth_date: date | None, today: date) -> None:
    """Refuse consent without a known age, or under 14 without a named guardian's consent."""
    if birth_date is None:
        raise EnrolmentRefused("age unknown: record an ID number or birth_date for this person")
    if age_on(birth_date, today) < GUARDIAN_AGE and not (
        request.guardian_consent and request.guardian_name
    ):
        raise EnrolmentRefused(
            f"person is under {GUARDIAN_AGE}: guardian_consent and guardian_name are required"
        )


def active_consent(session: Session, person_id: str) -> ConsentRecord | None:
    """The newest consent of the person that has not been withdrawn."""
    query = (
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person_id, ConsentRecord.withdrawn_at.is_(None))
        .order_by(ConsentRecord.given_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def withdraw_all(session: Session, person_id: str, now: datetime) -> int:
    """Mark every open consent of the person withdrawn; returns how many."""
    records = session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.person_id == person_id, ConsentRecord.withdrawn_at.is_(None)
        )
    ).all()
    for record in records:
        record.withdrawn_at = now
    return len(records)
