"""Visitors in scope with their consent state, and households, for the registry page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.privacy_models import ConsentRecord
from central.db.registry_models import Household, Visitor
from central.security.scopes import Principal

VISITOR_LIMIT = 200


@dataclass(frozen=True)
class VisitorRow:
    """A visitor, the window of their visit, and their consent state."""

    id: str
    compound_id: str
    name: str
    valid_from: datetime
    valid_until: datetime
    revoked: bool
    consent: str


def consent_states(session: Session, person_ids: list[str]) -> dict[str, str]:
    """``given``, ``withdrawn`` or ``none`` per person (any current consent counts as given)."""
    states = dict.fromkeys(person_ids, "none")
    rows = session.execute(
        select(ConsentRecord.person_id, ConsentRecord.withdrawn_at).where(
            ConsentRecord.person_id.in_(person_ids)
        )
    )
    for person_id, withdrawn_at in rows:
        if withdrawn_at is None:
            states[person_id] = "given"
        elif states[person_id] == "none":
            states[person_id] = "withdrawn"
    return states


def visitors_in_scope(session: Session, user: Principal) -> list[VisitorRow]:
    """The newest visitors of the user's compounds with their consent state."""
    visitors = list(
        session.scalars(
            select(Visitor)
            .where(Visitor.compound_id.in_(sorted(user.sites)))
            .order_by(Visitor.valid_from.desc())
            .limit(VISITOR_LIMIT)
        )
    )
    states = consent_states(session, [v.id for v in visitors])
    return [
        VisitorRow(
            id=v.id,
            compound_id=v.compound_id,
            name=v.name,
            valid_from=v.valid_from,
            valid_until=v.valid_until,
            revoked=v.revoked_at is not None,
            consent=states[v.id],
        )
        for v in visitors
    ]


@dataclass(frozen=True)
class HouseholdRow:
    """A household of a compound, for the registry forms."""

    id: str
    label: str


def households_of(session: Session, compound_id: str) -> list[HouseholdRow]:
    """The households of ``compound_id`` (already scope-checked), by label."""
    rows = session.scalars(
        select(Household).where(Household.compound_id == compound_id).order_by(Household.label)
    )
    return [HouseholdRow(id=h.id, label=h.label) for h in rows]
