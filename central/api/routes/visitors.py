"""Visitors: a host resident, a validity window, and a signed QR pass."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from central.api.deps import ContextDep, SessionDep, VisitorDep, Writer, load_scoped
from central.api.routes.residents import Phone, Removal
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.registry_models import Gate, Resident, Visitor, new_id
from central.registry.identity import mask_phone
from central.registry.queries import person_window
from edge.contract import VisitorPass, issue_pass

router = APIRouter(prefix="/api/visitors", tags=["visitors"])
MAX_VISIT = timedelta(days=31)


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
        if not self.valid_from < self.valid_until <= self.valid_from + MAX_VISIT:
            raise ValueError("valid_until must follow valid_from by at most 31 days")
        return self


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


@router.post("", status_code=status.HTTP_201_CREATED)
def create_visitor(body: VisitorCreate, user: Writer, session: SessionDep) -> VisitorPublic:
    """Register a visitor of a resident in scope."""
    host = load_scoped(session, user, Resident, body.host_resident_id)
    if host.moved_out_at is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "host has moved out")
    _check_gates(session, host.compound_id, body.gate_ids)
    visitor = Visitor(
        compound_id=host.compound_id,
        host_resident_id=host.id,
        name=body.name,
        phone_masked=mask_phone(body.phone) if body.phone else None,
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
    detail = {"pass_id": grant.pass_id}
    record(session, user.username, "visitor.pass_issued", visitor.id, visitor.compound_id, detail)
    session.commit()
    return PassPublic(pass_text=text, valid_until=visitor.valid_until)


@router.post("/{visitor_id}/revoke")
def revoke_visitor(
    visitor: VisitorDep, user: Writer, session: SessionDep, context: ContextDep
) -> Removal:
    """End the visit now: templates and credentials deleted here and on every gate."""
    window = person_window(session, visitor.id)
    if window is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "visitor not found")
    deleted = context.enroller.leave(session, window, user.username)
    session.commit()
    return Removal(templates_deleted=deleted)
