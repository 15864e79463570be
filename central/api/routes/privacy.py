"""Consent, face enrolment from photos, and withdrawal (templates deleted everywhere)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from central.api.deps import ContextDep, CurrentUser, SessionDep, Writer, well_formed_id
from central.audit.log import record
from central.db.base import utcnow
from central.db.privacy_models import ConsentRecord, FaceTemplate
from central.db.registry_models import Resident, Visitor
from central.enrol.consent import ConsentCreate, check_guardian
from central.enrol.errors import EnrolmentRefused
from central.enrol.photos import Photo
from central.registry.queries import PersonWindow, person_window
from central.security.scopes import user_can_see

router = APIRouter(prefix="/api/persons", tags=["privacy"])


class ConsentPublic(BaseModel):
    """A consent record."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    person_id: str
    purpose: str
    retention_days: int
    notice_version: str
    method: str
    given_at: datetime
    guardian_name: str | None
    guardian_consent: bool
    withdrawn_at: datetime | None


class TemplatePublic(BaseModel):
    """A stored template's metadata (never the template itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    pack: str
    embedder: str
    dimension: int
    created_at: datetime


class Withdrawal(BaseModel):
    """How many templates a withdrawal deleted."""

    templates_deleted: int


def scoped_person(person_id: str, user: CurrentUser, session: SessionDep) -> PersonWindow:
    """The resident or visitor ``person_id`` within the caller's scope (404 otherwise)."""
    window = person_window(session, person_id) if well_formed_id(person_id) else None
    if window is None or not user_can_see(user, window.compound_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "person not found")
    return window


PersonDep = Annotated[PersonWindow, Depends(scoped_person)]


def _birth_date(session: SessionDep, person: PersonWindow) -> date | None:
    row = session.get(Resident if person.person_kind == "resident" else Visitor, person.person_id)
    return row.birth_date if isinstance(row, Resident | Visitor) else None


@router.post("/{person_id}/consent", status_code=status.HTTP_201_CREATED)
def give_consent(
    person: PersonDep, body: ConsentCreate, user: Writer, session: SessionDep
) -> ConsentPublic:
    """Record consent to enrolment (guardian consent required under 14)."""
    if body.given_at > utcnow():
        raise EnrolmentRefused("given_at lies in the future")
    check_guardian(body, _birth_date(session, person), utcnow().date())
    consent = ConsentRecord(
        person_id=person.person_id,
        person_kind=person.person_kind,
        compound_id=person.compound_id,
        **body.model_dump(),
    )
    session.add(consent)
    session.flush()
    detail = {"consent_id": consent.id, "notice_version": body.notice_version}
    record(session, user.username, "consent.give", person.person_id, person.compound_id, detail)
    session.commit()
    return ConsentPublic.model_validate(consent)


@router.get("/{person_id}/consent")
def list_consent(person: PersonDep, user: CurrentUser, session: SessionDep) -> list[ConsentPublic]:
    """The person's consent records, newest first, withdrawn ones included."""
    rows = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person.person_id)
        .order_by(ConsentRecord.given_at.desc())
    )
    return [ConsentPublic.model_validate(row) for row in rows]


@router.post("/{person_id}/consent/withdraw")
def withdraw_consent(
    person: PersonDep, user: Writer, session: SessionDep, context: ContextDep
) -> Withdrawal:
    """Withdraw consent: templates are deleted here and the deletion is sent to every gate."""
    deleted = context.enroller.withdraw(session, person, user.username)
    session.commit()
    return Withdrawal(templates_deleted=deleted)


@router.post("/{person_id}/enrol", status_code=status.HTTP_201_CREATED)
def enrol(
    person: PersonDep,
    photos: Annotated[list[UploadFile], File(description="One face per photo.")],
    user: Writer,
    session: SessionDep,
    context: ContextDep,
) -> list[TemplatePublic]:
    """Enrol the person's face from one or more photos (consent must be on record)."""
    limit = context.settings.max_photo_bytes
    uploads = []
    for index, photo in enumerate(photos):
        data = photo.file.read(limit + 1)
        if len(data) > limit:
            raise EnrolmentRefused(f"photo {index} is larger than {limit} bytes")
        uploads.append(Photo(photo.filename or str(index), data))
    rows = context.enroller.enrol(session, person, uploads, user.username)
    session.commit()
    return [TemplatePublic.model_validate(row) for row in rows]


@router.get("/{person_id}/templates")
def list_templates(
    person: PersonDep, user: CurrentUser, session: SessionDep
) -> list[TemplatePublic]:
    """The person's templates (metadata only); the access is audited."""
    rows = session.scalars(
        select(FaceTemplate)
        .where(FaceTemplate.person_id == person.person_id)
        .order_by(FaceTemplate.created_at)
    ).all()
    record(session, user.username, "template.access", person.person_id, person.compound_id)
    session.commit()
    return [TemplatePublic.model_validate(row) for row in rows]
