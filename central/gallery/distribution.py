"""Per-compound gallery versions, recorded in the transaction that changes who gates recognise,
and which gates have not applied the newest version yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db.events_models import DeviceGalleryState, GalleryVersion
from central.registry.queries import compound_gates

CHANGED_FLAG = "anju.gallery_changed"
"""Set in ``Session.info`` by ``record_gallery_change``, so a publisher can wake after commit."""


def current_version(session: Session, compound_id: str) -> int:
    """The compound's newest gallery version (0 before the first change)."""
    newest = session.scalar(
        select(func.max(GalleryVersion.version)).where(GalleryVersion.compound_id == compound_id)
    )
    return int(newest or 0)


def record_gallery_change(
    session: Session, compound_id: str, changed: Sequence[str], deleted: Sequence[str]
) -> int:
    """Bump the compound's gallery version in the caller's transaction; returns the version.

    The signed delta is published after commit by ``GalleryPublisher`` (never before, so a gate
    cannot receive a change that is later rolled back).
    """
    version = current_version(session, compound_id) + 1
    session.add(
        GalleryVersion(
            compound_id=compound_id,
            version=version,
            changed=sorted(set(changed) - set(deleted)),
            deleted=sorted(set(deleted)),
        )
    )
    session.flush()
    session.info[CHANGED_FLAG] = True
    return version


@dataclass(frozen=True)
class GateLag:
    """A gate device and the gallery version it last reported applied (None: never)."""

    device_id: str
    applied_version: int | None
    current_version: int
    reported_at: datetime | None


def gate_versions(session: Session, compound_id: str) -> list[GateLag]:
    """Every active gate device of the compound with its applied version."""
    current = current_version(session, compound_id)
    gates = [gate for gate in compound_gates(session, compound_id) if gate.active]
    states = {
        state.device_id: state
        for state in session.scalars(
            select(DeviceGalleryState).where(
                DeviceGalleryState.device_id.in_([gate.device_id for gate in gates])
            )
        )
    }
    lags = []
    for gate in gates:
        state = states.get(gate.device_id)
        applied = state.applied_version if state and state.compound_id == compound_id else None
        reported = state.reported_at if state else None
        lags.append(GateLag(gate.device_id, applied, current, reported))
    return lags


def lagging_gates(session: Session, compound_id: str) -> list[GateLag]:
    """The active gates whose applied version is behind the compound's newest (or unknown)."""
    return [
        lag
        for lag in gate_versions(session, compound_id)
        if lag.applied_version is None or lag.applied_version < lag.current_version
    ]
