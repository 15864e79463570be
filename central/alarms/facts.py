"""The facts rules need, read from the events and device tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from central.db.events_models import DeviceHealth, Event
from central.ingest.ports import PersonLookup
from central.rules.correlate import DeviceFacts, VisitFacts

_DECISION = Event.kind == "access.decision"
UNKNOWN_FACE: ColumnElement[bool] = and_(
    _DECISION,
    or_(
        Event.decision == "unknown",
        and_(Event.method == "face", Event.decision == "denied", Event.person_id.is_(None)),
    ),
)
"""SQL form of ``rules.correlate.is_unknown_face``."""
DENIED: ColumnElement[bool] = and_(_DECISION, Event.decision == "denied")


def count_events(
    session: Session,
    condition: ColumnElement[bool],
    site_id: str,
    until: datetime,
    window_s: float,
    gate_id: str | None = None,
) -> int:
    """Events matching ``condition`` at the site (and gate) in ``(until - window, until]``."""
    query = select(func.count()).where(
        condition,
        Event.site_id == site_id,
        Event.occurred_at > until - timedelta(seconds=window_s),
        Event.occurred_at <= until,
    )
    if gate_id is not None:
        query = query.where(Event.gate_id == gate_id)
    return int(session.scalar(query) or 0)


def devices(session: Session) -> list[DeviceFacts]:
    """What central last heard from every device that ever reported."""
    return [
        DeviceFacts(row.device_id, row.site_id, row.last_heartbeat, row.last_seen, row.online)
        for row in session.scalars(select(DeviceHealth).order_by(DeviceHealth.device_id))
    ]


def visits(session: Session, since: datetime, person_lookup: PersonLookup) -> list[VisitFacts]:
    """Each visitor's latest grant since ``since``, with their admission window."""
    latest = (
        select(Event.person_id, func.max(Event.occurred_at).label("at"))
        .where(_DECISION, Event.decision == "granted", Event.occurred_at >= since)
        .where(Event.person_id.is_not(None))
        .group_by(Event.person_id)
        .subquery()
    )
    rows = session.execute(
        select(Event.person_id, Event.site_id, Event.gate_id, Event.occurred_at)
        .join(latest, and_(Event.person_id == latest.c.person_id, Event.occurred_at == latest.c.at))
        .where(_DECISION, Event.decision == "granted")
    )
    facts: dict[str, VisitFacts] = {}
    for person_id, site_id, gate_id, at in rows:
        person = person_lookup(session, person_id) if person_id else None
        if person_id is None or person is None or person.person_kind != "visitor":
            continue
        facts[person_id] = VisitFacts(person_id, site_id, gate_id or "", at, person.valid_until)
    return list(facts.values())
