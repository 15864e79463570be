"""What a report holds: per-site figures for one hierarchy node over a day, week or month
(日报告、周会办、月研判), with the node's totals and a per-day series for the chart."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db.events_models import Alarm, Event
from central.db.registry_models import HierarchyNode
from central.reports.availability import DEFAULT_OFFLINE_AFTER, site_availability
from central.security.scopes import Principal
from central.web.rollups import CHINA_TZ, SiteRow, count_sites, rates, scoped_sites

Period = Literal["daily", "weekly", "monthly"]
OVERDUE = timedelta(hours=24)
"""An alarm still open this long after it was first seen is overdue."""


@dataclass(frozen=True)
class Window:
    """A report's period: [start, end) in UTC, and its first China-time day."""

    period: Period
    first_day: date
    start: datetime
    end: datetime


def window(period: Period, day: date) -> Window:
    """The day, the Monday-to-Sunday week, or the calendar month holding ``day``."""
    if period == "daily":
        first, last = day, day + timedelta(days=1)
    elif period == "weekly":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)

    def utc(local: date) -> datetime:
        return datetime(local.year, local.month, local.day, tzinfo=CHINA_TZ)

    return Window(period, first, utc(first), utc(last))


@dataclass
class Report:
    """Figures for one node and period."""

    node_name: str
    node_level: str
    window: Window
    generated_at: datetime
    sites: list[SiteRow]
    totals: Counter[str]
    daily_entries: dict[date, int]

    def rates(self) -> dict[str, float | None]:
        """三个100% rates over the whole node."""
        return rates(self.totals)


def _node_sites(session: Session, user: Principal, node: HierarchyNode) -> dict[str, SiteRow]:
    below = set(
        session.scalars(
            select(HierarchyNode.id).where(
                HierarchyNode.path.startswith(node.path, autoescape=True)
            )
        )
    )
    return {k: s for k, s in scoped_sites(session, user).items() if s.community_id in below}


def _alarm_counts(session: Session, sites: dict[str, SiteRow], span: Window, now: datetime) -> None:
    ids = sorted(sites)
    unknown = (
        select(Alarm.site_id, func.count())
        .where(Alarm.type == "unknown_face", Alarm.site_id.in_(ids))
        .where(Alarm.first_seen >= span.start, Alarm.first_seen < span.end)
        .group_by(Alarm.site_id)
    )
    overdue = (
        select(Alarm.site_id, func.count())
        .where(Alarm.state != "cleared", Alarm.site_id.in_(ids), Alarm.first_seen < now - OVERDUE)
        .group_by(Alarm.site_id)
    )
    for name, statement in (("unknown_face_alarms", unknown), ("overdue_alarms", overdue)):
        for site_id, number in session.execute(statement):
            sites[str(site_id)].counts[name] += number


def _daily_entries(session: Session, sites: dict[str, SiteRow], span: Window) -> dict[date, int]:
    days: dict[date, int] = {}
    day = span.first_day
    while datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ) < span.end:
        days[day] = 0
        day += timedelta(days=1)
    rows = session.scalars(
        select(Event.occurred_at).where(
            Event.kind == "access.decision",
            Event.decision == "granted",
            Event.site_id.in_(sorted(sites)),
            Event.occurred_at >= span.start,
            Event.occurred_at < span.end,
        )
    )
    for occurred_at in rows:
        local = occurred_at.astimezone(CHINA_TZ).date()
        days[local] = days.get(local, 0) + 1
    return days


def build_report(
    session: Session,
    user: Principal,
    node: HierarchyNode,
    span: Window,
    now: datetime,
    alive_for: timedelta = DEFAULT_OFFLINE_AFTER,
) -> Report:
    """The report of ``node`` (the user's sites below it) over ``span``.

    ``alive_for``: how long a heartbeat keeps a device online, for the devices' availability
    (``reports.availability.offline_after`` of the configured device-offline rule).
    """
    sites = _node_sites(session, user, node)
    count_sites(session, sites, span.start, span.end)
    _alarm_counts(session, sites, span, now)
    for site_id, figures in site_availability(
        session, sites, span.start, span.end, now, alive_for
    ).items():
        sites[site_id].counts.update(figures)
    totals: Counter[str] = Counter()
    for site in sites.values():
        totals.update(site.counts)
    return Report(
        node_name=node.name,
        node_level=node.level,
        window=span,
        generated_at=now,
        sites=list(sites.values()),
        totals=totals,
        daily_entries=_daily_entries(session, sites, span),
    )
