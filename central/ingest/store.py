"""Write one batch in the caller's transaction: events once by id, rejections, device state."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Column, Insert, Table, TextClause, TypeDecorator, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.db.base import Base, utcnow
from central.db.events_models import DeviceGalleryState, DeviceHealth, Event, IngestRejection
from central.ingest.validate import Accepted, Rejected
from edge.contract import (
    AccessDecision,
    CameraStatus,
    DeviceStatus,
    Envelope,
    GalleryApplied,
    Heartbeat,
)


def insert_ignoring_conflicts(session: Session, model: type[Base]) -> Insert:
    """An INSERT that skips rows whose primary key exists (SQLite and PostgreSQL); execute it
    with a list of rows (one compiled statement, sent as multi-row batches)."""
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _event_row(accepted: Accepted, received_at: datetime) -> dict[str, Any]:
    envelope = accepted.envelope
    payload = envelope.payload
    decision = payload if isinstance(payload, AccessDecision) else None
    return {
        "event_id": envelope.event_id,
        "device_id": envelope.device_id,
        "site_id": envelope.site_id,
        "kind": envelope.kind,
        "occurred_at": envelope.occurred_at,
        "received_at": received_at,
        "decision": decision.decision if decision else None,
        "method": decision.method if decision else None,
        "person_id": decision.person_id if decision else None,
        "gate_id": decision.gate_id if decision else None,
        "payload": accepted.raw["payload"],
    }


@cache
def _recordset_insert(table: Table) -> TextClause:
    """PostgreSQL: one short statement taking the whole batch as one JSON array of rows, so
    it is parsed once (and prepared) instead of a VALUES list as long as the batch. JSON
    columns are read as ``json``, which keeps their text (escapes included) verbatim."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = ", ".join(c.name for c in table.columns)
    types = ", ".join(f"{c.name} {c.type.compile(dialect=dialect)}" for c in table.columns)
    key = ", ".join(c.name for c in table.primary_key)
    return text(
        f"INSERT INTO {table.name} ({names}) SELECT {names} "
        f"FROM json_to_recordset(CAST(:rows AS json)) AS r({types}) "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
    )


@cache
def _text_columns(table: Table) -> tuple[str, ...]:
    """The columns whose values JSON has no type for (ids, times): they travel as text."""
    return tuple(c.name for c in table.columns if _python_type(c) in (uuid.UUID, datetime))


def _python_type(column: Column[Any]) -> type:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type.python_type


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[Any]:
    """Insert ``rows`` of events, skipping ids already stored; returns the ids inserted."""
    table = cast(Table, Event.__table__)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = insert_ignoring_conflicts(session, Event).returning(table.c.event_id)
        return set(connection.execute(statement, rows).scalars())
    text_columns = _text_columns(table)
    for row in rows:
        for name in text_columns:
            row[name] = _json_scalar(row[name])
    document = json.dumps(rows, ensure_ascii=False, allow_nan=False)
    return set(connection.execute(_recordset_insert(table), {"rows": document}).scalars().all())


def _json_scalar(value: object) -> object:
    """Event ids and UTC times as PostgreSQL reads them back from JSON text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def store_events(session: Session, accepted: Sequence[Accepted]) -> list[Envelope]:
    """Insert the events not stored before; returns the envelopes that are new."""
    unique = {a.envelope.event_id: a for a in accepted}
    if not unique:
        return []
    now = utcnow()
    new_ids = _insert_new(session, [_event_row(a, now) for a in unique.values()])
    return [a.envelope for a in unique.values() if a.envelope.event_id in new_ids]


def store_rejections(session: Session, rejected: Sequence[Rejected]) -> None:
    """Record each refused message."""
    session.add_all(
        IngestRejection(
            reason=r.reason, device_id=r.device_id, topic=r.topic[:256], detail=r.detail
        )
        for r in rejected
    )


def _health(session: Session, envelope: Envelope) -> DeviceHealth:
    row = session.get(DeviceHealth, envelope.device_id)
    if row is None:
        row = DeviceHealth(
            device_id=envelope.device_id,
            site_id=envelope.site_id,
            last_heartbeat=None,
            last_seen=envelope.occurred_at,
            online=True,
            camera_state={},
        )
        session.add(row)
    row.last_seen = max(row.last_seen, envelope.occurred_at)
    return row


_HEALTH_KINDS = (Heartbeat, DeviceStatus, CameraStatus)


def _lock_health_rows(session: Session, envelopes: Sequence[Envelope]) -> None:
    """Create the missing health rows without racing other workers, then lock the batch's rows
    in device-id order, so concurrent workers queue instead of deadlocking."""
    first_seen: dict[str, Envelope] = {}
    for envelope in sorted(envelopes, key=lambda e: e.occurred_at):
        if isinstance(envelope.payload, _HEALTH_KINDS):
            first_seen.setdefault(envelope.device_id, envelope)
    if not first_seen:
        return
    rows = [
        {
            "device_id": device_id,
            "site_id": envelope.site_id,
            "last_seen": envelope.occurred_at,
            "online": True,
            "camera_state": {},
        }
        for device_id, envelope in sorted(first_seen.items())
    ]
    session.execute(insert_ignoring_conflicts(session, DeviceHealth), rows)
    locked = select(DeviceHealth).where(DeviceHealth.device_id.in_(sorted(first_seen)))
    session.scalars(locked.order_by(DeviceHealth.device_id).with_for_update()).all()


def apply_device_state(session: Session, envelopes: Sequence[Envelope]) -> None:
    """Update device health and gallery state from new status, heartbeat and gallery events."""
    _lock_health_rows(session, envelopes)
    for envelope in sorted(envelopes, key=lambda e: e.occurred_at):
        payload = envelope.payload
        if isinstance(payload, Heartbeat):
            row = _health(session, envelope)
            row.last_heartbeat = envelope.occurred_at
            row.online = True
            row.outbox_depth = payload.outbox_depth
        elif isinstance(payload, DeviceStatus):
            row = _health(session, envelope)
            row.online = payload.state == "online"
            row.software_version = payload.software_version or row.software_version
        elif isinstance(payload, CameraStatus):
            row = _health(session, envelope)
            row.camera_state = {**row.camera_state, payload.camera_id: payload.state}
        elif isinstance(payload, GalleryApplied):
            _apply_gallery(session, envelope, payload)


def _apply_gallery(session: Session, envelope: Envelope, payload: GalleryApplied) -> None:
    row = session.scalar(
        select(DeviceGalleryState).where(DeviceGalleryState.device_id == envelope.device_id)
    )
    if row is None:
        session.add(
            DeviceGalleryState(
                device_id=envelope.device_id,
                compound_id=payload.compound_id,
                applied_version=payload.version,
                reported_at=envelope.occurred_at,
            )
        )
    elif envelope.occurred_at >= row.reported_at:
        row.compound_id = payload.compound_id
        row.applied_version = payload.version
        row.reported_at = envelope.occurred_at
