"""Read-only summaries for the dashboard: hierarchy roll-ups, device health, event search and
hourly entries — all limited to the caller's sites."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from central.api.deps import (
    CompoundDep,
    ContextDep,
    CurrentUser,
    DeviceDep,
    NodeDep,
    SessionDep,
    load_scoped,
    require_role,
)
from central.audit.log import record
from central.db.base import utcnow
from central.db.events_models import DeviceGalleryState, DeviceHealth, Event, GalleryVersion
from central.db.registry_models import Device, HierarchyNode
from central.reports.availability import offline_after
from central.reports.data import Period, build_report, window
from central.reports.export import ReportFontMissing, table, title, to_pdf, to_xlsx
from central.security.scopes import Principal, sites_under
from central.web.compliance import MAX_DAYS, OutletCompliance, compliance, last_days
from central.web.evidence import EVIDENCE_ID, EvidenceSources, EvidenceUnavailable, fetch_evidence
from central.web.people import HouseholdRow, VisitorRow, households_of, visitors_in_scope
from central.web.rollups import CHINA_TZ, count_sites, day_start, node_totals, rates, scoped_sites

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


class NodeSummary(BaseModel):
    """A hierarchy node with the roll-up of every site below it."""

    id: str
    name: str
    level: str
    parent_id: str | None
    counts: dict[str, int]
    rates: dict[str, float | None]


class SiteSummary(BaseModel):
    """A compound or outlet with its own counters."""

    id: str
    name: str
    kind: str
    community_id: str
    counts: dict[str, int]
    rates: dict[str, float | None]


class Tree(BaseModel):
    """The visible hierarchy with today's roll-ups (days in China Standard Time)."""

    since: datetime
    nodes: list[NodeSummary]
    sites: list[SiteSummary]


@router.get("/tree")
def tree(user: CurrentUser, session: SessionDep) -> Tree:
    """Nodes and sites in scope: devices online, open alarms, today's entries and rates."""
    since = day_start(utcnow())
    sites = scoped_sites(session, user)
    count_sites(session, sites, since)
    nodes = list(
        session.scalars(
            select(HierarchyNode)
            .where(HierarchyNode.path.startswith(user.scope_path, autoescape=True))
            .order_by(HierarchyNode.path)
        )
    )
    totals = node_totals(nodes, sites)
    return Tree(
        since=since,
        nodes=[
            NodeSummary(
                id=n.id,
                name=n.name,
                level=n.level,
                parent_id=n.parent_id,
                counts=dict(totals[n.id]),
                rates=rates(totals[n.id]),
            )
            for n in nodes
        ],
        sites=[
            SiteSummary(
                id=s.id,
                name=s.name,
                kind=s.kind,
                community_id=s.community_id,
                counts=dict(s.counts),
                rates=rates(s.counts),
            )
            for s in sites.values()
        ],
    )


class DeviceHealthPublic(BaseModel):
    """A device's last heartbeat, cameras and how far its gallery lags."""

    id: str
    kind: str
    site_id: str
    active: bool
    online: bool
    last_heartbeat: datetime | None
    camera_state: dict[str, str]
    gallery_applied: int | None
    gallery_latest: int | None


@router.get("/devices")
def device_health(user: CurrentUser, session: SessionDep) -> list[DeviceHealthPublic]:
    """Every device in scope with its health (never heard from: offline, no heartbeat)."""
    ids = sorted(user.sites)
    versions = session.execute(
        select(GalleryVersion.compound_id, func.max(GalleryVersion.version))
        .where(GalleryVersion.compound_id.in_(ids))
        .group_by(GalleryVersion.compound_id)
    )
    latest: dict[str, int] = {compound: int(version) for compound, version in versions}
    rows = session.execute(
        select(Device, DeviceHealth, DeviceGalleryState)
        .outerjoin(DeviceHealth, DeviceHealth.device_id == Device.id)
        .outerjoin(DeviceGalleryState, DeviceGalleryState.device_id == Device.id)
        .where(Device.site_id.in_(ids))
        .order_by(Device.site_id, Device.id)
    )
    return [
        DeviceHealthPublic(
            id=device.id,
            kind=device.kind,
            site_id=device.site_id,
            active=device.active,
            online=bool(health and health.online),
            last_heartbeat=health.last_heartbeat if health else None,
            camera_state=dict(health.camera_state) if health else {},
            gallery_applied=gallery.applied_version if gallery else None,
            gallery_latest=latest.get(device.site_id) if device.kind == "gate" else None,
        )
        for device, health, gallery in rows
    ]


class EventQuery(BaseModel):
    """Event search filters; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    site_id: str | None = Field(default=None, max_length=64)
    node_id: str | None = Field(default=None, max_length=64, description="Sites below a node.")
    kind: str | None = Field(default=None, max_length=32)
    decision: Literal["granted", "denied", "unknown"] | None = None
    limit: int = Field(default=100, ge=1, le=500)


class EventPublic(BaseModel):
    """A stored event (payload included: it carries no raw identity numbers)."""

    model_config = ConfigDict(from_attributes=True)

    event_id: str
    site_id: str
    device_id: str
    kind: str
    occurred_at: datetime
    decision: str | None
    method: str | None
    gate_id: str | None
    payload: dict[str, Any]


@router.get("/events")
def search_events(
    user: CurrentUser, session: SessionDep, query: Annotated[EventQuery, Query()]
) -> list[EventPublic]:
    """Events in scope, newest first, by time range, site or hierarchy node, kind and decision."""
    sites = user.sites
    if query.node_id:
        node = load_scoped(session, user, HierarchyNode, query.node_id)
        sites = sites & sites_under(session, node.path)
    statement = select(Event).where(Event.site_id.in_(sorted(sites)))
    conditions = [
        Event.occurred_at >= query.since if query.since else None,
        Event.occurred_at < query.until if query.until else None,
        Event.site_id == query.site_id if query.site_id else None,
        Event.kind == query.kind if query.kind else None,
        Event.decision == query.decision if query.decision else None,
    ]
    statement = statement.where(*(c for c in conditions if c is not None))
    events = session.scalars(statement.order_by(Event.occurred_at.desc()).limit(query.limit))
    return [
        EventPublic(
            event_id=str(e.event_id),
            site_id=e.site_id,
            device_id=e.device_id,
            kind=e.kind,
            occurred_at=e.occurred_at,
            decision=e.decision,
            method=e.method,
            gate_id=e.gate_id,
            payload=e.payload,
        )
        for e in events
    ]


@router.get("/hourly")
def hourly_entries(user: CurrentUser, session: SessionDep) -> dict[str, list[int]]:
    """Today's granted entries per China-time hour (24 buckets), per compound in scope."""
    since = day_start(utcnow())
    rows = session.execute(
        select(Event.site_id, Event.occurred_at).where(
            Event.kind == "access.decision",
            Event.decision == "granted",
            Event.occurred_at >= since,
            Event.site_id.in_(sorted(user.sites)),
        )
    )
    buckets: dict[str, list[int]] = {}
    for site_id, occurred_at in rows:
        buckets.setdefault(site_id, [0] * 24)[occurred_at.astimezone(CHINA_TZ).hour] += 1
    return buckets


@router.get("/visitors")
def visitors(user: CurrentUser, session: SessionDep) -> list[VisitorRow]:
    """Visitors of the caller's compounds, newest first, with consent state."""
    return visitors_in_scope(session, user)


@router.get("/compounds/{compound_id}/households")
def households(compound: CompoundDep, session: SessionDep) -> list[HouseholdRow]:
    """The households of a compound in scope, for the resident form."""
    return households_of(session, compound.id)


@router.get("/compliance")
def outlet_compliance(
    user: CurrentUser,
    session: SessionDep,
    context: ContextDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 7,
) -> list[OutletCompliance]:
    """三个100% rates per outlet in scope over the last ``days`` local days (today included)."""
    zone = context.settings.rules.parcels.zone
    return compliance(session, user, last_days(utcnow(), zone, days), zone)


EVIDENCE_ROLES = ("admin", "operator")


@router.get("/evidence/{device_id}", response_class=Response)
def evidence(
    device: DeviceDep,
    evidence_id: Annotated[str, Query(pattern=EVIDENCE_ID.pattern)],
    user: Annotated[Principal, Depends(require_role(*EVIDENCE_ROLES))],
    session: SessionDep,
    request: Request,
) -> Response:
    """A snapshot or clip pulled from the device's node now (admins and operators; audited)."""
    sources: EvidenceSources = getattr(request.app.state, "evidence_sources", EvidenceSources())
    detail = {"evidence_id": evidence_id}
    record(session, user.username, "evidence.view", device.id, device.site_id, detail)
    session.commit()
    try:
        found = fetch_evidence(sources, device.id, evidence_id)
    except EvidenceUnavailable as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return Response(
        found.content, media_type=found.content_type, headers={"Cache-Control": "no-store"}
    )


class ReportQuery(BaseModel):
    """Which report: period, a day inside it (China time; default today) and the format."""

    model_config = ConfigDict(extra="forbid")

    period: Period = "daily"
    day: date | None = None
    format: Literal["json", "xlsx", "pdf"] = "json"


class ReportPublic(BaseModel):
    """A report for the page: title, its table (header first) and entries per day."""

    title: str
    start: datetime
    end: datetime
    rows: list[list[str]]
    daily_entries: dict[date, int]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/reports/{node_id}", response_model=None)
def report(
    node: NodeDep,
    user: CurrentUser,
    session: SessionDep,
    context: ContextDep,
    query: Annotated[ReportQuery, Query()],
) -> ReportPublic | Response:
    """日报告、周会办、月研判 of a node on demand, as JSON, XLSX or PDF (exports are audited)."""
    now = utcnow()
    span = window(query.period, query.day or now.astimezone(CHINA_TZ).date())
    alive_for = offline_after(context.settings.rules.device_offline)
    built = build_report(session, user, node, span, now, alive_for)
    if query.format == "json":
        return ReportPublic(
            title=title(built),
            start=span.start,
            end=span.end,
            rows=table(built),
            daily_entries=built.daily_entries,
        )
    try:
        content = to_pdf(built) if query.format == "pdf" else to_xlsx(built)
    except ReportFontMissing as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    detail = {"period": query.period, "first_day": str(span.first_day), "format": query.format}
    record(session, user.username, "report.export", node.id, None, detail)
    session.commit()
    name = f"anju-{query.period}-{span.first_day}.{query.format}"
    media = "application/pdf" if query.format == "pdf" else XLSX
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=media, headers=headers)
