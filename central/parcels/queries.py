"""Read-side views of the parcel registries, as the API shows them (sender masked only)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from central.db.parcel_models import Parcel, Sender, Waybill
from central.parcels.rates import day_bounds
from central.parcels.states import missing_for


class ParcelView(BaseModel):
    """A parcel with its waybill number, its sender's masked ID and what blocks its next step
    (as the API shows it: the sender only masked)."""

    model_config = ConfigDict(frozen=True)

    id: str
    outlet_id: str
    state: str
    waybill_number: str | None
    sender_id_masked: str | None
    desk_id: str
    real_name: bool
    opened: bool
    inspection_s: float
    inspected: bool
    xray: bool
    flags: list[str]
    evidence_ids: list[str]
    missing_to_accept: list[str]
    missing_to_dispatch: list[str]
    started_at: datetime
    inspected_at: datetime | None


def _views() -> Select[Parcel, str, str]:
    return (
        select(Parcel, Waybill.number, Sender.id_masked)
        .outerjoin(Waybill, Parcel.waybill_id == Waybill.id)
        .outerjoin(Sender, Parcel.sender_id == Sender.id)
    )


def _view(parcel: Parcel, number: str | None, masked: str | None) -> ParcelView:
    return ParcelView(
        id=parcel.id,
        outlet_id=parcel.outlet_id,
        state=parcel.state,
        waybill_number=number,
        sender_id_masked=masked,
        desk_id=parcel.desk_id,
        real_name=parcel.real_name,
        opened=parcel.opened,
        inspection_s=parcel.inspection_s,
        inspected=parcel.inspected,
        xray=parcel.xray,
        flags=list(parcel.flags),
        evidence_ids=list(parcel.evidence_ids),
        missing_to_accept=missing_for(parcel, "accepted"),
        missing_to_dispatch=missing_for(parcel, "dispatched"),
        started_at=parcel.started_at,
        inspected_at=parcel.inspected_at,
    )


def parcel_view(session: Session, parcel_id: str) -> ParcelView | None:
    """One parcel, or None."""
    row = session.execute(_views().where(Parcel.id == parcel_id)).first()
    return _view(*row) if row else None


def outlet_parcels(
    session: Session, outlet_id: str, day: date | None, zone: tzinfo, state: str | None
) -> list[ParcelView]:
    """The outlet's parcels, newest first, of one local ``day`` and ``state`` when given."""
    query = _views().where(Parcel.outlet_id == outlet_id)
    if day is not None:
        start, end = day_bounds(day, zone)
        query = query.where(Parcel.started_at >= start, Parcel.started_at < end)
    if state is not None:
        query = query.where(Parcel.state == state)
    rows = session.execute(query.order_by(Parcel.started_at.desc(), Parcel.id).limit(1000))
    return [_view(*row) for row in rows]


def waybills_at(
    session: Session, outlet_ids: frozenset[str], number: str | None
) -> list[tuple[Waybill, list[str]]]:
    """Waybills with parcels at ``outlet_ids`` (one ``number``, if given) and those outlets."""
    query = (
        select(Waybill, Parcel.outlet_id)
        .join(Parcel, Parcel.waybill_id == Waybill.id)
        .where(Parcel.outlet_id.in_(outlet_ids))
        .order_by(Waybill.last_seen.desc(), Waybill.id)
    )
    if number is not None:
        query = query.where(Waybill.number == number)
    found: dict[str, tuple[Waybill, list[str]]] = {}
    for bill, outlet_id in session.execute(query.limit(1000)):
        found.setdefault(bill.id, (bill, []))[1].append(outlet_id)
    return list(found.values())
