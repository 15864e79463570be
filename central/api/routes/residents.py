"""Households and residents; ID and phone numbers are stored hashed or masked, never in clear."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select

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
from central.db.registry_models import Compound, Household, Resident
from central.registry.identity import (
    birth_date_of,
    id_number_hash,
    mask_id_number,
    mask_phone,
    valid_id_number,
    valid_phone,
)
from central.registry.queries import person_window

router = APIRouter(prefix="/api", tags=["residents"])


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
        id_number_hash=id_number_hash(context.secrets.at_rest_key, number) if number else None,
        id_number_masked=mask_id_number(number) if number else None,
        phone_masked=mask_phone(body.phone) if body.phone else None,
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


@router.post("/residents/{resident_id}/move-out")
def move_out(
    resident: ResidentDep, user: Writer, session: SessionDep, context: ContextDep
) -> Removal:
    """Mark the resident moved out; their templates are deleted here and on every gate."""
    window = person_window(session, resident.id)
    if window is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "resident not found")
    deleted = context.enroller.leave(session, window, user.username)
    session.commit()
    return Removal(templates_deleted=deleted)
