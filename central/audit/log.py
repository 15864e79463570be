"""Append to and verify the hash-chained audit log.

Each row's hash is SHA-256 over the previous row's hash and the row's own canonical JSON, so
changing, removing or reordering any row breaks every later link. Appends take the database's
write lock first (an advisory lock on PostgreSQL) and ``prev_hash`` is unique, so concurrent
writers queue up and can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from central.db.auth_models import AuditEntry
from central.db.base import utcnow

log = logging.getLogger(__name__)
GENESIS = "0" * 64
_LOCK_ID = 0x414E4A55


def entry_hash(entry: AuditEntry) -> str:
    """The hash a row must carry, from its content and ``prev_hash``."""
    body = {
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "site_id": entry.site_id,
        "detail": entry.detail,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{entry.prev_hash}\n{canonical}".encode()).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    target: str,
    site_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row in the caller's transaction (committed with the change it records)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))  # take the write lock
    last = session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        target=target,
        site_id=site_id,
        detail=detail or {},
        prev_hash=last or GENESIS,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    log.info("audit action=%s actor=%s target=%s", action, actor, target)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """The result of a chain check: rows read and the first broken row, if any."""

    rows: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether every link holds."""
        return self.broken_at is None


def _entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    )


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole log and report the first row whose link or hash does not hold."""
    previous, rows = GENESIS, 0
    for entry in _entries(session):
        rows += 1
        if entry.prev_hash != previous:
            return ChainReport(rows, entry.id, "previous hash does not match: a row was removed")
        if entry_hash(entry) != entry.hash:
            return ChainReport(rows, entry.id, "row content does not match its hash: altered")
        previous = entry.hash
    return ChainReport(rows)
