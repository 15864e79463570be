"""The waybill, sender and parcel registries, and what one ``parcel.inspection`` event changes.

Senders are known only by a keyed hash of their ID number: from events, the outlet nodes' sender
key (give every outlet the same key to recognise a sender across outlets); from counter
bookings, central's at-rest key. Hashes made with different keys never match."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.db.base import Base, utcnow
from central.db.parcel_models import Parcel, Sender, Waybill
from edge.contract import Envelope, ParcelInspection

Row = TypeVar("Row", bound=Base)
_INSPECTION_FLAGS = frozenset({"NOT_OPENED", "MISSING_INSPECTION", "SHORT_INSPECTION"})
_TEXT_LIMITS = (("waybill_number", 64), ("desk_id", 64), ("parcel_session_id", 64))


class InspectionRefused(ValueError):
    """An inspection event the registries cannot hold (it stays stored as an event)."""


def _check_fits(payload: ParcelInspection) -> None:
    for name, limit in _TEXT_LIMITS:
        value = getattr(payload, name)
        if value is not None and len(value) > limit:
            raise InspectionRefused(f"{name} is longer than {limit} characters")


def _find_or_add(session: Session, find: Callable[[], Row | None], make: Callable[[], Row]) -> Row:
    """The row ``find`` returns, or a new one from ``make``; safe against a concurrent insert."""
    row = find()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = make()
            session.add(row)
    except IntegrityError:
        row = find()
        if row is None:
            raise
    return row


def waybill(session: Session, number: str, outlet_id: str, at: datetime) -> Waybill:
    """The waybill ``number``, registered on first sight (at ``outlet_id``)."""
    row = _find_or_add(
        session,
        lambda: session.scalars(select(Waybill).where(Waybill.number == number)).first(),
        lambda: Waybill(number=number, first_outlet_id=outlet_id, first_seen=at, last_seen=at),
    )
    row.last_seen = max(row.last_seen, at)
    return row


def sender(session: Session, id_hash: str, masked: str, at: datetime) -> Sender:
    """The sender with keyed hash ``id_hash``, registered on first sight."""
    row = _find_or_add(
        session,
        lambda: session.scalars(select(Sender).where(Sender.id_hash == id_hash)).first(),
        lambda: Sender(id_hash=id_hash, id_masked=masked, first_seen=at, last_seen=at),
    )
    row.last_seen = max(row.last_seen, at)
    return row


def outlets_of(session: Session, waybill_id: str) -> list[str]:
    """Every outlet holding a parcel with this waybill."""
    query = select(Parcel.outlet_id).where(Parcel.waybill_id == waybill_id).distinct()
    return sorted(session.scalars(query))


def _parcel_for(
    session: Session, outlet_id: str, bill: Waybill | None, session_id: str, at: datetime
) -> Parcel:
    key = Parcel.waybill_id == bill.id if bill else Parcel.session_id == session_id
    return _find_or_add(
        session,
        lambda: session.scalars(select(Parcel).where(Parcel.outlet_id == outlet_id, key)).first(),
        lambda: Parcel(
            outlet_id=outlet_id,
            waybill_id=bill.id if bill else None,
            session_id=session_id,
            state="received",
            real_name=False,
            started_at=at,
        ),
    )


def apply_inspection(session: Session, envelope: Envelope) -> tuple[Parcel, Waybill | None]:
    """Create or update the parcel (and its waybill and sender) an inspection event reports;
    an event older than the one already applied changes nothing. ``InspectionRefused`` if the
    event's texts do not fit the registries.

    The outlet is the envelope's site, which ingest checked against the signing device."""
    payload = envelope.payload
    if not isinstance(payload, ParcelInspection):
        raise InspectionRefused(f"{envelope.kind} is not a parcel inspection")
    _check_fits(payload)
    outlet_id, at = envelope.site_id, envelope.occurred_at
    number = payload.waybill_number
    bill = waybill(session, number, outlet_id, at) if number else None
    parcel = _parcel_for(session, outlet_id, bill, payload.parcel_session_id, payload.started_at)
    if parcel.inspected_at is not None and parcel.inspected_at > at:
        return parcel, bill
    if payload.sender_status == "verified" and payload.sender_id_hash:
        who = sender(session, payload.sender_id_hash, payload.sender_id_masked or "", at)
        parcel.sender_id = who.id
        parcel.real_name = True
    parcel.desk_id = payload.desk_id
    parcel.session_id = payload.parcel_session_id
    parcel.opened = payload.opened
    parcel.inspection_s = payload.inspection_s
    parcel.inspected = payload.opened and not _INSPECTION_FLAGS.intersection(payload.flags)
    parcel.xray = payload.xray_passed
    parcel.flags = list(payload.flags)
    parcel.evidence_ids = list(payload.evidence_ids)
    parcel.last_event_id = envelope.event_id
    parcel.started_at = payload.started_at
    parcel.inspected_at = at
    parcel.updated_at = utcnow()
    session.flush()
    return parcel, bill


def register_parcel(session: Session, outlet_id: str, number: str, who: Sender | None) -> Parcel:
    """A parcel booked at the counter before (or without) its inspection event."""
    now = utcnow()
    bill = waybill(session, number, outlet_id, now)
    parcel = Parcel(
        outlet_id=outlet_id,
        waybill_id=bill.id,
        sender_id=who.id if who else None,
        real_name=who is not None,
        started_at=now,
        updated_at=now,
    )
    session.add(parcel)
    session.flush()
    return parcel
