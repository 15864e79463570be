"""Visitors: a host resident, a validity window, and a signed QR pass."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from central.api.deps import ContextDep, SessionDep, VisitorDep, Writer, load_scoped
from central.api.routes.residents import (
    Phone,
    Removal,
    end_stay,
    load_in_compound,
    masked_phone,
)
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.base import utcnow
from central.db.registry_models import Gate, IssuedPass, Resident, Visitor, new_id
from central.gallery.passes import revoke_passes
from central.registry.edits import PartialUpdate, apply_edit, keep_consent_valid
from central.security.scopes import Principal
from edge.contract import VisitorPass, issue_pass

router = APIRouter(prefix="/api/visitors", tags=["visitors"])
MAX_VISIT = timedelta(days=31)
WINDOW_RULE = "valid_until must follow valid_from by at most 31 days"
GALLERY_FIELDS = frozenset({"valid_from", "valid_until", "gate_ids"})
"""What gates hold of a visitor: changing it publishes a gallery version."""


def valid_window(valid_from: datetime, valid_until: datetime) -> bool:
    """Whether a visit from ``valid_from`` to ``valid_until`` is allowed (at most 31 days)."""
    return valid_from < valid_until <= valid_from + MAX_VISIT


class VisitorCreate(RequestModel):
    """A visitor of ``host_resident_id``, admitted from ``valid_from`` to ``valid_until``."""

    host_resident_id: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=200)
    phone: Phone | None = None
    birth_date: date | None = None
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    gate_ids: list[str] = Field(default_factory=list, max_length=50, description="Empty: all.")

    @model_validator(mode="after")
    def _window(self) -> VisitorCreate:
        if not valid_window(self.valid_from, self.valid_until):
            raise ValueError(WINDOW_RULE)
        return self


class VisitorUpdate(PartialUpdate):
    """Changes to a visitor not revoked; the window that results must still follow the rule."""

    NOT_NULL = frozenset({"host_resident_id", "name", "valid_from", "valid_until", "gate_ids"})

    host_resident_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: Phone | None = None
    birth_date: date | None = None
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    gate_ids: list[str] | None = Field(default=None, max_length=50, description="Empty: all.")


class VisitorPublic(BaseModel):
    """A visitor, with a masked phone number."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    compound_id: str
    host_resident_id: str
    name: str
    phone_masked: str | None
    gate_ids: list[str]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None


class PassPublic(BaseModel):
    """A visitor's QR pass text (signed by central)."""

    pass_text: str
    valid_until: datetime


def _check_gates(session: SessionDep, compound_id: str, gate_ids: list[str]) -> None:
    known = set(session.scalars(select(Gate.id).where(Gate.compound_id == compound_id)))
    unknown = sorted(set(gate_ids) - known)
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown gates: {unknown}")


def _current_host(host: Resident) -> Resident:
    if host.moved_out_at is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "host has moved out")
    return host


@router.post("", status_code=status.HTTP_201_CREATED)
def create_visitor(body: VisitorCreate, user: Writer, session: SessionDep) -> VisitorPublic:
    """Register a visitor of a resident in scope."""
    host = _current_host(load_scoped(session, user, Resident, body.host_resident_id))
    _check_gates(session, host.compound_id, body.gate_ids)
    visitor = Visitor(
        compound_id=host.compound_id,
        host_resident_id=host.id,
        name=body.name,
        phone_masked=masked_phone(body.phone),
        birth_date=body.birth_date,
        gate_ids=body.gate_ids,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    session.add(visitor)
    session.flush()
    record(session, user.username, "visitor.create", visitor.id, host.compound_id)
    session.commit()
    return VisitorPublic.model_validate(visitor)


@router.get("/{visitor_id}")
def get_visitor(visitor: VisitorDep) -> VisitorPublic:
    """One visitor."""
    return VisitorPublic.model_validate(visitor)


@router.get("/{visitor_id}/pass")
def visitor_pass(
    visitor: VisitorDep, user: Writer, session: SessionDep, context: ContextDep
) -> PassPublic:
    """Issue the visitor's QR pass, valid for the visitor's window."""
    if visitor.revoked_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "visitor was revoked")
    grant = VisitorPass(
        pass_id=new_id(),
        visitor_id=visitor.id,
        compound_id=visitor.compound_id,
        gate_ids=visitor.gate_ids,
        valid_from=visitor.valid_from,
        valid_until=visitor.valid_until,
    )
    text = issue_pass(grant, context.secrets.signing_key)
    session.add(
        IssuedPass(
            pass_id=grant.pass_id,
            visitor_id=visitor.id,
            compound_id=visitor.compound_id,
            valid_until=grant.valid_until,
        )
    )
    detail = {"pass_id": grant.pass_id}
    record(session, user.username, "visitor.pass_issued", visitor.id, visitor.compound_id, detail)
    session.commit()
    return PassPublic(pass_text=text, valid_until=visitor.valid_until)


@router.post("/{visitor_id}/revoke")
def revoke_visitor(
    visitor: VisitorDep, user: Writer, session: SessionDep, context: ContextDep
) -> Removal:
    """End the visit now: templates and credentials deleted here and on every gate."""
    deleted = end_stay(session, context, visitor.id, user.username)
    session.commit()
    return Removal(templates_deleted=deleted)


def _visitor_changes(
    body: VisitorUpdate, visitor: Visitor, user: Principal, session: SessionDep
) -> dict[str, Any]:
    changes = body.changes()
    if "host_resident_id" in changes:
        _current_host(
            load_in_compound(
                session, user, Resident, changes["host_resident_id"], visitor.compound_id
            )
        )
    if "gate_ids" in changes:
        _check_gates(session, visitor.compound_id, changes["gate_ids"])
    if "phone" in changes:
        changes["phone_masked"] = masked_phone(changes.pop("phone"))
    window = (
        changes.get("valid_from", visitor.valid_from),
        changes.get("valid_until", visitor.valid_until),
    )
    if not valid_window(*window):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, WINDOW_RULE)
    return changes


@router.patch("/{visitor_id}")
def update_visitor(
    visitor: VisitorDep,
    body: VisitorUpdate,
    user: Writer,
    session: SessionDep,
    context: ContextDep,
) -> VisitorPublic:
    """Change a visitor's details; a new window or gate list reaches the gates as a gallery
    version, like any other change to who they admit."""
    if visitor.revoked_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "visitor was revoked")
    changes = _visitor_changes(body, visitor, user, session)
    keep_consent_valid(session, visitor.id, changes, utcnow().date())
    changed = apply_edit(session, user.username, visitor, changes)
    if GALLERY_FIELDS.intersection(changed):  # passes carry the old window and gates
        version = context.enroller.gallery_change(session, visitor.compound_id, [visitor.id], [])
        revoke_passes(session, visitor.id, version, utcnow())
    session.commit()
    return VisitorPublic.model_validate(visitor)
