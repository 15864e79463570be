"""Reading the audit log (admins and auditors, rows of their sites only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from central.api.deps import SessionDep, require_role
from central.audit.log import record
from central.db.auth_models import AuditEntry
from central.security.scopes import Principal

router = APIRouter(prefix="/api/audit", tags=["audit"])
Reader = Annotated[Principal, Depends(require_role("admin", "auditor"))]


class AuditPublic(BaseModel):
    """One audit row."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    site_id: str | None
    detail: dict[str, Any]
    hash: str


@router.get("")
def list_audit(
    user: Reader,
    session: SessionDep,
    after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditPublic]:
    """Audit rows of the caller's sites after ``after_id``; the read itself is audited."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.id > after_id, AuditEntry.site_id.in_(user.sites))
        .order_by(AuditEntry.id)
        .limit(limit)
    )
    rows = [AuditPublic.model_validate(row) for row in session.scalars(query)]
    record(session, user.username, "audit.export", "audit_log", None, {"rows": len(rows)})
    session.commit()
    return rows
