"""Per-site counters for the dashboard, summed up the hierarchy: devices online, open alarms,
today's entries and denials, and today's 三个100% rates (real name, open-box, X-ray)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from central.db.events_models import Alarm, DeviceHealth, Event
from central.db.registry_models import Compound, Device, HierarchyNode, Outlet
from central.security.scopes import Principal

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""Governance days run on China Standard Time (no daylight saving)."""
COUNTERS = (
    "devices",
    "online",
    "open_alarms",
    "entries",
    "denied",
    "unknown",
    "parcels",
    "real_name",
    "opened",
    "xray",
)


@dataclass
class SiteRow:
    """A compound or outlet with its counters."""

    id: str
    name: str
    kind: str
    community_id: str
    counts: Counter[str] = field(default_factory=Counter)


def day_start(now: datetime) -> datetime:
    """The start (in UTC) of the China-time day holding ``now``."""
    local = now.astimezone(CHINA_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def scoped_sites(session: Session, user: Principal) -> dict[str, SiteRow]:
    """Every compound and outlet the user may see, by id."""
    ids = sorted(user.sites)
    rows = {
        c.id: SiteRow(c.id, c.name, "compound", c.community_id) for c in _of(session, Compound, ids)
    }
    rows.update(
        {o.id: SiteRow(o.id, o.name, "outlet", o.community_id) for o in _of(session, Outlet, ids)}
    )
    return rows


def _of(
    session: Session, model: type[Compound] | type[Outlet], ids: list[str]
) -> Iterable[Compound | Outlet]:
    return session.scalars(select(model).where(model.id.in_(ids)).order_by(model.name))


def count_sites(
    session: Session, sites: dict[str, SiteRow], since: datetime, until: datetime | None = None
) -> None:
    """Fill each site's counters: devices and open alarms now, events in [since, until)."""
    ids = sorted(sites)
    devices = (
        select(Device.site_id, func.count(), func.count(DeviceHealth.device_id))
        .outerjoin(DeviceHealth, (DeviceHealth.device_id == Device.id) & DeviceHealth.online)
        .where(Device.active, Device.site_id.in_(ids))
        .group_by(Device.site_id)
    )
    for site_id, total, online in session.execute(devices):
        sites[site_id].counts.update(devices=total, online=online)
    alarms = (
        select(Alarm.site_id, func.count())
        .where(Alarm.state != "cleared", Alarm.site_id.in_(ids))
        .group_by(Alarm.site_id)
    )
    for alarm_site, open_count in session.execute(alarms):
        sites[str(alarm_site)].counts["open_alarms"] += open_count
    decisions = (
        select(Event.site_id, Event.decision, func.count())
        .where(Event.kind == "access.decision", Event.site_id.in_(ids), *_during(since, until))
        .group_by(Event.site_id, Event.decision)
    )
    names = {"granted": "entries", "denied": "denied", "unknown": "unknown"}
    for site_id, decision, number in session.execute(decisions):
        if decision in names:
            sites[site_id].counts[names[decision]] += number
    _count_parcels(session, sites, since, until)


def _during(since: datetime, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = [Event.occurred_at >= since]
    return conditions if until is None else [*conditions, Event.occurred_at < until]


def _count_parcels(
    session: Session, sites: dict[str, SiteRow], since: datetime, until: datetime | None
) -> None:
    parcels = select(Event.site_id, Event.payload).where(
        Event.kind == "parcel.inspection", Event.site_id.in_(sorted(sites)), *_during(since, until)
    )
    for site_id, payload in session.execute(parcels):
        counts = sites[site_id].counts
        counts["parcels"] += 1
        counts["real_name"] += payload.get("sender_status") == "verified"
        counts["opened"] += bool(payload.get("opened"))
        counts["xray"] += bool(payload.get("xray_passed"))


def node_totals(
    nodes: Iterable[HierarchyNode], sites: dict[str, SiteRow]
) -> dict[str, Counter[str]]:
    """Each node's counters: the sum over sites whose community lies at or below it."""
    node_list = list(nodes)
    path_of = {node.id: node.path for node in node_list}
    totals: dict[str, Counter[str]] = {node.id: Counter() for node in node_list}
    for site in sites.values():
        site_path = path_of.get(site.community_id)
        if site_path is None:
            continue
        for node in node_list:
            if site_path.startswith(node.path):
                totals[node.id].update(site.counts)
    return totals


def rates(counts: Counter[str]) -> dict[str, float | None]:
    """三个100% rates as fractions (None without parcels)."""
    parcels = counts["parcels"]
    keys = ("real_name", "opened", "xray")
    return {key: (counts[key] / parcels if parcels else None) for key in keys}
