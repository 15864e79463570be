"""Device availability over a report period: the share of the time each site's devices were
online, from the heartbeats and status messages stored as events.

A heartbeat, or an ``online`` status, shows a device alive until the device-offline rule would
call it silent (``heartbeat_interval_s * missed_heartbeats`` later); an ``offline`` status (the
node's own, or its last will) ends that at once. A device is counted from the period's start or
its provisioning, whichever is later, to the period's end or now, whichever is earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.events_models import Event
from central.db.registry_models import Device
from central.rules.config import DeviceOfflineRule

HEARTBEAT = "device.heartbeat"
STATUS = "device.status"
ONLINE_SECONDS = "online_s"
DEVICE_SECONDS = "device_s"
"""Report counters: seconds devices were online, and seconds they were counted for."""


def offline_after(rule: DeviceOfflineRule) -> timedelta:
    """How long one heartbeat keeps a device online: as long as the rule tolerates silence."""
    return timedelta(seconds=rule.heartbeat_interval_s * rule.missed_heartbeats)


DEFAULT_OFFLINE_AFTER = offline_after(DeviceOfflineRule())


@dataclass(frozen=True)
class Signal:
    """A device's liveness message: alive (heartbeat, ``online`` status) or gone offline."""

    at: datetime
    alive: bool


def online_seconds(
    signals: Iterable[Signal], start: datetime, end: datetime, alive_for: timedelta
) -> float:
    """Seconds of ``[start, end)`` the device was online, from its signals in time order."""

    def within(since: datetime, until: datetime) -> float:
        return max((min(until, end) - max(since, start)).total_seconds(), 0.0)

    total = 0.0
    stretch: tuple[datetime, datetime] | None = None  # online since, and until unless renewed
    for signal in signals:
        if stretch is not None and signal.at >= stretch[1]:
            total += within(*stretch)
            stretch = None
        if signal.alive:
            stretch = (stretch[0] if stretch else signal.at, signal.at + alive_for)
        elif stretch is not None:
            total += within(stretch[0], signal.at)
            stretch = None
    if stretch is not None:
        total += within(*stretch)
    return total


def _signals(
    session: Session, site_ids: list[str], device_ids: list[str], since: datetime, until: datetime
) -> Iterable[tuple[str, Iterable[Signal]]]:
    state = Event.payload["state"].as_string()
    rows = session.execute(
        select(Event.device_id, Event.occurred_at, Event.kind, state)
        .where(Event.site_id.in_(site_ids), Event.kind.in_((HEARTBEAT, STATUS)))  # its index
        .where(Event.device_id.in_(device_ids))
        .where(Event.occurred_at >= since, Event.occurred_at < until)
        .order_by(Event.device_id, Event.occurred_at)
        .execution_options(yield_per=10_000)
    )
    for device_id, group in groupby(rows, key=lambda row: row[0]):
        yield (
            device_id,
            (Signal(at, kind == HEARTBEAT or value == "online") for _, at, kind, value in group),
        )


def site_availability(
    session: Session,
    site_ids: Iterable[str],
    start: datetime,
    end: datetime,
    now: datetime,
    alive_for: timedelta = DEFAULT_OFFLINE_AFTER,
) -> dict[str, dict[str, int]]:
    """Per site: ``online_s`` and ``device_s`` of its active devices over ``[start, end)``."""
    until = min(end, now)
    devices = session.scalars(
        select(Device).where(Device.active, Device.site_id.in_(sorted(site_ids)))
    ).all()
    counted = {device.id: (device.site_id, max(start, device.created_at)) for device in devices}
    figures = {site_id: {ONLINE_SECONDS: 0, DEVICE_SECONDS: 0} for site_id, _ in counted.values()}
    for site_id, since in counted.values():
        figures[site_id][DEVICE_SECONDS] += round(max((until - since).total_seconds(), 0.0))
    sites = sorted({site_id for site_id, _ in counted.values()})
    for device_id, signals in _signals(session, sites, sorted(counted), start - alive_for, until):
        site_id, since = counted[device_id]
        figures[site_id][ONLINE_SECONDS] += round(online_seconds(signals, since, until, alive_for))
    return figures


def availability(counts: Mapping[str, int]) -> float | None:
    """The share of counted device time spent online (None when no device was counted)."""
    counted = counts.get(DEVICE_SECONDS, 0)
    return counts.get(ONLINE_SECONDS, 0) / counted if counted else None
