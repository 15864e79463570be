"""Households and residents; ID and phone numbers are stored hashed or masked, never in clear."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, status
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.api.context import CentralContext
from central.api.deps import (
    CompoundDep,
    ContextDep,
    HouseholdDep,
    ResidentDep,
    SessionDep,
    Writer,
    load_scoped,
)
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.base import utcnow
from central.db.registry_models import Compound, Household, Resident
from central.registry.edits import PartialUpdate, apply_edit, keep_consent_valid
from central.registry.identity import (
    birth_date_of,
    id_number_hash,
    mask_id_number,
    mask_phone,
    valid_id_number,
    valid_phone,
)
from central.registry.queries import person_window
from central.security.scopes import Principal

router = APIRouter(prefix="/api", tags=["residents"])
Member = TypeVar("Member", Household, Resident)


def _id_number(value: str) -> str:
    if not valid_id_number(value):
        raise ValueError("not a valid 18-character ID number")
    return value.upper()


def _phone(value: str) -> str:
    if not valid_phone(value):
        raise ValueError("not a phone number (7-15 digits)")
    return value


IdNumber = Annotated[str, AfterValidator(_id_number)]
Phone = Annotated[str, AfterValidator(_phone)]


class HouseholdCreate(RequestModel):
    """A household of a compound."""

    compound_id: str = Field(max_length=64)
    label: str = Field(min_length=1, max_length=100, examples=["3-2-701"])


class HouseholdPublic(BaseModel):
    """A household."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    compound_id: str
    label: str


class ResidentCreate(RequestModel):
    """A resident; the ID number gives the birth date unless ``birth_date`` is given."""

    household_id: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=200)
    id_number: IdNumber | None = None
    phone: Phone | None = None
    birth_date: date | None = None


class ResidentUpdate(PartialUpdate):
    """Changes to a current resident; ``moved_out_at`` (not in the future) moves them out.

    A new ID number gives the birth date unless ``birth_date`` is given too; the household
    must be one of the same compound.
    """

    NOT_NULL = frozenset({"household_id", "name", "moved_out_at"})

    household_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    id_number: IdNumber | None = None
    phone: Phone | None = None
    birth_date: date | None = None
    moved_out_at: AwareDatetime | None = None

    @field_validator("moved_out_at")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > utcnow():
            raise ValueError("a move-out date may not lie in the future")
        return value


class ResidentPublic(BaseModel):
    """A resident, with masked ID and phone numbers."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    household_id: str
    compound_id: str
    name: str
    id_number_masked: str | None
    phone_masked: str | None
    birth_date: date | None
    moved_out_at: datetime | None


class Removal(BaseModel):
    """How many templates a removal deleted."""

    templates_deleted: int


def masked_phone(phone: str | None) -> str | None:
    """The masked form of a phone number, None without one."""
    return mask_phone(phone) if phone else None


def id_number_fields(key: bytes, number: str | None) -> dict[str, str | None]:
    """The stored forms of an ID number (keyed hash, masked), both None without one."""
    return {
        "id_number_hash": id_number_hash(key, number) if number else None,
        "id_number_masked": mask_id_number(number) if number else None,
    }


def load_in_compound(
    session: Session, user: Principal, model: type[Member], object_id: str, compound_id: str
) -> Member:
    """``load_scoped``, and 422 unless the row belongs to ``compound_id``."""
    row = load_scoped(session, user, model, object_id)
    if row.compound_id != compound_id:
        detail = f"{model.__name__.lower()} belongs to another compound"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    return row


def end_stay(session: Session, context: CentralContext, person_id: str, actor: str) -> int:
    """Move a resident out or revoke a visitor: templates and credentials deleted everywhere."""
    window = person_window(session, person_id)
    if window is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "person not found")
    return context.enroller.leave(session, window, actor)


@router.post("/households", status_code=status.HTTP_201_CREATED)
def create_household(body: HouseholdCreate, user: Writer, session: SessionDep) -> HouseholdPublic:
    """Add a household to a compound in scope."""
    load_scoped(session, user, Compound, body.compound_id)
    household = Household(compound_id=body.compound_id, label=body.label)
    session.add(household)
    session.flush()
    record(session, user.username, "household.create", household.id, body.compound_id)
    session.commit()
    return HouseholdPublic.model_validate(household)


@router.get("/households/{household_id}")
def get_household(household: HouseholdDep) -> HouseholdPublic:
    """One household."""
    return HouseholdPublic.model_validate(household)


@router.post("/residents", status_code=status.HTTP_201_CREATED)
def create_resident(
    body: ResidentCreate, user: Writer, session: SessionDep, context: ContextDep
) -> ResidentPublic:
    """Register a resident of a household in scope."""
    household = load_scoped(session, user, Household, body.household_id)
    number = body.id_number
    resident = Resident(
        household_id=household.id,
        compound_id=household.compound_id,
        name=body.name,
        **id_number_fields(context.secrets.at_rest_key, number),
        phone_masked=masked_phone(body.phone),
        birth_date=body.birth_date or (birth_date_of(number) if number else None),
    )
    session.add(resident)
    session.flush()
    record(session, user.username, "resident.create", resident.id, household.compound_id)
    session.commit()
    return ResidentPublic.model_validate(resident)


@router.get("/residents/{resident_id}")
def get_resident(resident: ResidentDep) -> ResidentPublic:
    """One resident (masked)."""
    return ResidentPublic.model_validate(resident)


@router.get("/compounds/{compound_id}/residents")
def list_residents(compound: CompoundDep, session: SessionDep) -> list[ResidentPublic]:
    """The compound's residents (masked)."""
    compound_id = compound.id
    rows = session.scalars(
        select(Resident).where(Resident.compound_id == compound_id).order_by(Resident.name)
    )
    return [ResidentPublic.model_validate(row) for row in rows]


def _resident_changes(
    body: ResidentUpdate, resident: Resident, user: Principal, session: Session, key: bytes
) -> dict[str, Any]:
    changes = body.changes()
    if "household_id" in changes:
        load_in_compound(session, user, Household, changes["household_id"], resident.compound_id)
    if "id_number" in changes:
        number = changes.pop("id_number")
        changes |= id_number_fields(key, number)
        if number and "birth_date" not in changes:
            changes["birth_date"] = birth_date_of(number)
    if "phone" in changes:
        changes["phone_masked"] = masked_phone(changes.pop("phone"))
    return changes


@router.patch("/residents/{resident_id}")
def update_resident(
    resident: ResidentDep,
    body: ResidentUpdate,
    user: Writer,
    session: SessionDep,
    context: ContextDep,
) -> ResidentPublic:
    """Change a current resident's details; a move-out date moves them out as move-out does."""
    if resident.moved_out_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "resident has moved out")
    changes = _resident_changes(body, resident, user, session, context.secrets.at_rest_key)
    keep_consent_valid(session, resident.id, changes, utcnow().date())
    if "moved_out_at" in changes:
        end_stay(session, context, resident.id, user.username)
    apply_edit(session, user.username, resident, changes)
    session.commit()
    return ResidentPublic.model_validate(resident)


@router.post("/residents/{resident_id}/move-out")
def move_out(
    resident: ResidentDep, user: Writer, session: SessionDep, context: ContextDep
) -> Removal:
    """Mark the resident moved out; their templates are deleted here and on every gate."""
    deleted = end_stay(session, context, resident.id, user.username)
    session.commit()
    return Removal(templates_deleted=deleted)
