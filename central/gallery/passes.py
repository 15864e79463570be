"""Visitor QR passes at the gates: revoking them, and the revocations gallery messages carry.

A pass is checked offline from its signature and its own window, so a visitor who is revoked,
or whose window or gates change, would still pass with one issued before. Central keeps every
pass it signs; such a change revokes the visitor's passes in the gallery version that records
it, each delta carries the passes revoked in its version and each snapshot every revoked pass
not yet expired, and gates refuse them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from central.db.registry_models import IssuedPass
from edge.contract import RevokedPass


def revoke_passes(session: Session, visitor_id: str, version: int, now: datetime) -> int:
    """Revoke the visitor's passes still in force, in gallery ``version``; returns how many."""
    in_force = session.scalars(
        select(IssuedPass).where(
            IssuedPass.visitor_id == visitor_id,
            IssuedPass.revoked_version.is_(None),
            IssuedPass.valid_until > now,
        )
    ).all()
    for issued in in_force:
        issued.revoked_version = version
    return len(in_force)


def revoked_in(session: Session, compound_id: str, version: int) -> list[RevokedPass]:
    """The passes revoked in ``version`` of the compound's gallery."""
    query = select(IssuedPass).where(
        IssuedPass.compound_id == compound_id, IssuedPass.revoked_version == version
    )
    return _revoked(session, query)


def revoked_in_force(session: Session, compound_id: str, now: datetime) -> list[RevokedPass]:
    """Every revoked pass of the compound that has not expired yet."""
    query = select(IssuedPass).where(
        IssuedPass.compound_id == compound_id,
        IssuedPass.revoked_version.is_not(None),
        IssuedPass.valid_until > now,
    )
    return _revoked(session, query)


def _revoked(session: Session, query: Select[IssuedPass]) -> list[RevokedPass]:
    rows = session.scalars(query.order_by(IssuedPass.pass_id))
    return [RevokedPass(pass_id=row.pass_id, valid_until=row.valid_until) for row in rows]
