"""Courier parcels: booking at the counter, acceptance and dispatch (409 when refused), the
outlet's parcels, senders and daily 三个100% rates, and waybill look-up — all within scope."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central.api.deps import ContextDep, CurrentUser, OutletDep, SessionDep, Writer, well_formed_id
from central.api.routes.residents import IdNumber
from central.audit.log import record
from central.core.schemas import RequestModel
from central.db.base import utcnow
from central.db.parcel_models import Parcel, Sender
from central.parcels import records
from central.parcels.queries import ParcelView, outlet_parcels, parcel_view, waybills_at
from central.parcels.rates import daily_rates, local_day
from central.parcels.states import ParcelState, TransitionRefused, transition
from central.registry.identity import id_number_hash, mask_id_number
from central.security.scopes import user_can_see

router = APIRouter(prefix="/api", tags=["parcels"])
WaybillNumber = Annotated[str, Field(min_length=6, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class ParcelCreate(RequestModel):
    """A parcel booked at the counter: its waybill and, once checked, the sender's ID number."""

    waybill_number: WaybillNumber
    sender_id_number: IdNumber | None = None


class StateChange(RequestModel):
    """The state a parcel should move to."""

    state: ParcelState


class RatesPublic(BaseModel):
    """One outlet's day: parcel counts and the three rates in percent."""

    outlet_id: str
    day: date
    parcels: int
    real_name_pct: float
    inspection_pct: float
    xray_pct: float
    complete: bool


class SenderPublic(BaseModel):
    """A sender seen at the outlet, by masked ID number."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    id_masked: str
    first_seen: datetime
    last_seen: datetime


class WaybillPublic(BaseModel):
    """A waybill and the caller's outlets holding a parcel with it."""

    id: str
    number: str
    first_seen: datetime
    last_seen: datetime
    outlet_ids: list[str]


def load_parcel(parcel_id: str, user: CurrentUser, session: SessionDep) -> Parcel:
    """The parcel ``parcel_id``; 404 if missing or at an outlet outside the user's scope."""
    parcel = session.get(Parcel, parcel_id) if well_formed_id(parcel_id) else None
    if parcel is None or not user_can_see(user, parcel.outlet_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "parcel not found")
    return parcel


ParcelDep = Annotated[Parcel, Depends(load_parcel)]


@router.post("/outlets/{outlet_id}/parcels", status_code=status.HTTP_201_CREATED)
def create_parcel(
    outlet: OutletDep, body: ParcelCreate, user: Writer, session: SessionDep, context: ContextDep
) -> ParcelView:
    """Book a parcel at the outlet; 409 if the outlet already holds this waybill."""
    outlet_id = outlet.id
    if waybills_at(session, frozenset({outlet_id}), body.waybill_number):
        raise HTTPException(status.HTTP_409_CONFLICT, "the outlet already holds this waybill")
    who = None
    if body.sender_id_number:
        key_hash = id_number_hash(context.secrets.at_rest_key, body.sender_id_number)
        who = records.sender(session, key_hash, mask_id_number(body.sender_id_number), utcnow())
    try:
        parcel = records.register_parcel(session, outlet_id, body.waybill_number, who)
    except IntegrityError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "the outlet holds this waybill") from exc
    record(session, user.username, "parcel.create", parcel.id, outlet_id)
    session.commit()
    return _found(parcel_view(session, parcel.id))


def _found(view: ParcelView | None) -> ParcelView:
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "parcel not found")
    return view


@router.get("/outlets/{outlet_id}/parcels")
def list_parcels(
    outlet: OutletDep,
    session: SessionDep,
    context: ContextDep,
    day: date | None = None,
    state: ParcelState | None = None,
) -> list[ParcelView]:
    """The outlet's parcels, newest first (at most 1000), of one local day and state if given."""
    zone = context.settings.rules.parcels.zone
    return outlet_parcels(session, outlet.id, day, zone, state)


@router.get("/outlets/{outlet_id}/rates")
def outlet_rates(
    outlet: OutletDep, session: SessionDep, context: ContextDep, day: date | None = None
) -> RatesPublic:
    """The outlet's 三个100% rates for a local day (default today)."""
    zone = context.settings.rules.parcels.zone
    rates = daily_rates(session, outlet.id, day or local_day(utcnow(), zone), zone)
    return RatesPublic(
        outlet_id=rates.outlet_id,
        day=rates.day,
        parcels=rates.parcels,
        real_name_pct=rates.real_name_pct,
        inspection_pct=rates.inspection_pct,
        xray_pct=rates.xray_pct,
        complete=rates.complete,
    )


@router.get("/outlets/{outlet_id}/senders")
def list_senders(outlet: OutletDep, session: SessionDep) -> list[SenderPublic]:
    """Senders of the outlet's parcels (masked ID numbers only)."""
    rows = session.scalars(
        select(Sender)
        .where(Sender.id.in_(select(Parcel.sender_id).where(Parcel.outlet_id == outlet.id)))
        .order_by(Sender.last_seen.desc())
        .limit(1000)
    )
    return [SenderPublic.model_validate(row) for row in rows]


@router.get("/parcels/{parcel_id}")
def get_parcel(parcel: ParcelDep, session: SessionDep) -> ParcelView:
    """One parcel."""
    return _found(parcel_view(session, parcel.id))


@router.post("/parcels/{parcel_id}/state")
def change_state(
    parcel: ParcelDep, body: StateChange, user: Writer, session: SessionDep
) -> ParcelView:
    """Accept, dispatch or refuse the parcel; 409 when its checks or state do not allow it."""
    before = parcel.state
    try:
        transition(parcel, body.state)
    except TransitionRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    detail: dict[str, Any] = {"from": before, "to": body.state}
    record(session, user.username, "parcel.state", parcel.id, parcel.outlet_id, detail)
    session.commit()
    return _found(parcel_view(session, parcel.id))


@router.get("/waybills")
def list_waybills(
    user: CurrentUser,
    session: SessionDep,
    number: Annotated[str | None, Query(max_length=64)] = None,
) -> list[WaybillPublic]:
    """Waybills at the caller's outlets (at most 1000), or the one with ``number``."""
    return [
        WaybillPublic(
            id=bill.id,
            number=bill.number,
            first_seen=bill.first_seen,
            last_seen=bill.last_seen,
            outlet_ids=sorted(set(outlets)),
        )
        for bill, outlets in waybills_at(session, user.sites, number)
    ]
