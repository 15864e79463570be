"""Compose central's FastAPI application from its settings."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from central.api.context import CentralContext
from central.api.metrics import count_requests
from central.api.metrics import router as metrics_router
from central.api.routes import (
    alarms,
    audit,
    auth,
    credentials,
    dashboard,
    devices,
    gallery,
    hierarchy,
    parcels,
    privacy,
    residents,
    sites,
    stream,
    users,
    visitors,
)
from central.core.secrets import load_secrets
from central.core.settings import CentralSettings
from central.db.session import make_engine, make_session_factory
from central.enrol.errors import EnrolmentRefused
from central.enrol.service import Enroller, GalleryChange
from central.feeds.bus import EventBus
from central.gallery.distribution import record_gallery_change
from central.security.ratelimit import LoginLimiter
from central.web.router import mount_dashboard

log = logging.getLogger(__name__)
ROUTERS = (
    auth,
    hierarchy,
    sites,
    residents,
    visitors,
    privacy,
    credentials,
    devices,
    users,
    audit,
    stream,
    alarms,
    gallery,
    dashboard,
    parcels,
)


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def build_context(
    settings: CentralSettings,
    gallery_change: GalleryChange | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> CentralContext:
    """Secrets, sessions and services for ``settings`` (the database must be migrated)."""
    secrets = load_secrets(settings)
    if sessions is None:
        sessions = make_session_factory(make_engine(settings.database_url), secrets.at_rest_key)
    photo_dir = settings.photo_dir if settings.keep_enrolment_photos else None
    change = gallery_change or record_gallery_change
    return CentralContext(
        settings=settings,
        secrets=secrets,
        sessions=sessions,
        enroller=Enroller(settings.face_engine, change, photo_dir),
        bus=EventBus(),
        limiter=LoginLimiter(settings.login_failures_per_minute),
    )


def create_app(settings: CentralSettings, context: CentralContext | None = None) -> FastAPI:
    """The API over a migrated database; ``app.state.ctx`` and ``app.state.bus`` are shared."""
    context = context or build_context(settings)
    app = FastAPI(title="Anju central", version="0.1.0", docs_url="/docs")
    app.state.ctx = context
    app.state.bus = context.bus
    app.state.sessions = context.sessions
    app.middleware("http")(count_requests)
    app.add_exception_handler(EnrolmentRefused, _refused)
    for module in ROUTERS:
        app.include_router(module.router)
    app.include_router(metrics_router)
    app.state.evidence_sources = settings.evidence
    mount_dashboard(app)
    log.info("central_app_ready database=%s", context.sessions.kw["bind"].url)
    return app
