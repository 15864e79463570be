"""Users (argon2 hashes, a role, a scope node) and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, utcnow
from central.db.registry_models import new_id

Role = Literal["admin", "operator", "auditor", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "operator", "auditor", "viewer")


class User(Base):
    """A dashboard or API user, who sees their scope node and everything below it."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    scope_node_id: Mapped[str] = mapped_column(ForeignKey("hierarchy_nodes.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One audited action; ``hash`` covers the row and ``prev_hash``, chaining every row."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(
        String(64), unique=True, doc="Unique: two writers can never fork the chain."
    )
    hash: Mapped[str] = mapped_column(String(64), unique=True)
