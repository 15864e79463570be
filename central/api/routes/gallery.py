"""Gallery distribution: each gate's applied version, the gates that lag, and a resync."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from central.api.deps import CompoundDep, ContextDep, SessionDep, Writer
from central.gallery.distribution import GateLag, gate_versions, lagging_gates
from central.gallery.publisher import GalleryPublisher
from central.gallery.wiring import gallery_publisher
from central.ingest.mqtt import BrokerError

router = APIRouter(prefix="/api/gallery", tags=["gallery"])
_lock = threading.Lock()


class GateVersionPublic(BaseModel):
    """A gate device and the gallery version it last reported applied."""

    device_id: str
    applied_version: int | None
    current_version: int
    reported_at: datetime | None
    lagging: bool


class ResyncPublic(BaseModel):
    """The gates asked to resynchronise."""

    compound_id: str
    asked: list[str]


def _public(lag: GateLag) -> GateVersionPublic:
    behind = lag.applied_version is None or lag.applied_version < lag.current_version
    return GateVersionPublic(**vars(lag), lagging=behind)


def get_publisher(request: Request, context: ContextDep) -> GalleryPublisher:
    """The app's gallery publisher, made on first use."""
    with _lock:
        publisher: GalleryPublisher | None = getattr(request.app.state, "gallery_publisher", None)
        if publisher is None:
            try:
                publisher, _client = gallery_publisher(
                    context.settings, context.secrets, context.sessions, "api"
                )
            except BrokerError as exc:
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
            request.app.state.gallery_publisher = publisher
        return publisher


PublisherDep = Annotated[GalleryPublisher, Depends(get_publisher)]


@router.get("/{compound_id}/gates")
def list_gate_versions(compound: CompoundDep, session: SessionDep) -> list[GateVersionPublic]:
    """Every active gate of the compound with its applied gallery version."""
    return [_public(lag) for lag in gate_versions(session, compound.id)]


@router.get("/{compound_id}/lagging")
def list_lagging_gates(compound: CompoundDep, session: SessionDep) -> list[GateVersionPublic]:
    """The gates behind the compound's newest gallery version."""
    return [_public(lag) for lag in lagging_gates(session, compound.id)]


@router.post("/{compound_id}/resync", status_code=status.HTTP_202_ACCEPTED)
def resync(compound: CompoundDep, user: Writer, publisher: PublisherDep) -> ResyncPublic:
    """Re-send the retained snapshot and ask each lagging gate to report its version."""
    try:
        asked = publisher.request_resync(compound.id)
    except BrokerError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    return ResyncPublic(compound_id=compound.id, asked=asked)
