"""Device availability in reports: the share of the period each site's devices were online,
from a known history of heartbeats and status messages."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from central.db.auth_models import User
from central.db.events_models import Event
from central.db.registry_models import Device, HierarchyNode
from central.reports.availability import (
    DEFAULT_OFFLINE_AFTER,
    Signal,
    online_seconds,
    site_availability,
)
from central.reports.data import build_report, window
from central.reports.export import table
from central.security.scopes import principal_of
from tests.central.api.conftest import Central
from tests.central.api.world import World

SPAN = window("daily", date(2026, 11, 20))
START = SPAN.start
BEAT = timedelta(seconds=30)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ALIVE = DEFAULT_OFFLINE_AFTER  # 90 s: three missed 30 s heartbeats
AFTER_PERIOD = START + 30 * HOUR


Stored = tuple[str, Signal]


def beats(first: datetime, last: datetime) -> list[Stored]:
    """Heartbeats every 30 s from ``first`` to ``last`` inclusive."""
    count = int((last - first) / BEAT) + 1
    return [("device.heartbeat", Signal(first + i * BEAT, True)) for i in range(count)]


def status(at: datetime, online: bool) -> Stored:
    """A device.status message."""
    return "device.status", Signal(at, online)


def history() -> list[Stored]:
    """Online from before the period to 03:00 (its last will then), silent until 12:00, then
    online to 18:00 but for a 10-minute gap in heartbeats after 15:00."""
    morning = [*beats(START - MINUTE, START + 3 * HOUR - BEAT), status(START + 3 * HOUR, False)]
    gap_from, gap_to = START + 15 * HOUR, START + 15 * HOUR + 10 * MINUTE
    afternoon = [
        status(START + 12 * HOUR, True),
        *beats(START + 12 * HOUR, gap_from),
        *beats(gap_to, START + 18 * HOUR),
    ]
    return [status(START - 5 * HOUR, True), *morning, *afternoon]


def signals() -> list[Signal]:
    """The history's signals, in time order."""
    return [signal for _, signal in history()]


# 3 h until the last will, then 6 h from noon (the last beat at 18:00 holds for 90 s more),
# less the gap: silent from 15:00 + 90 s until heartbeats resume at 15:10.
ONLINE_S = (3 * HOUR + 6 * HOUR + ALIVE - (10 * MINUTE - ALIVE)).total_seconds()


def test_online_seconds_of_a_known_history() -> None:
    assert online_seconds(signals(), START, SPAN.end, ALIVE) == ONLINE_S
    assert online_seconds(signals(), START, START + 2 * HOUR, ALIVE) == 2 * 3600
    assert online_seconds([], START, SPAN.end, ALIVE) == 0


@pytest.mark.parametrize(
    ("signals", "expected_s"),
    [
        ([Signal(START, True)], 90),
        ([Signal(START, True), Signal(START + MINUTE, False)], 60),
        ([Signal(START, False), Signal(START + HOUR, True)], 90),
        ([Signal(START - HOUR, True), Signal(START - MINUTE, True)], 30),
    ],
)
def test_online_seconds_cases(signals: list[Signal], expected_s: float) -> None:
    assert online_seconds(signals, START, SPAN.end, ALIVE) == expected_s


def _event(device: Device, kind: str, signal: Signal) -> Event:
    if kind == "device.heartbeat":
        payload: dict[str, Any] = {"uptime_s": 1.0, "outbox_depth": 0}
    else:
        payload = {"state": "online" if signal.alive else "offline"}
    return Event(
        event_id=uuid.uuid4(),
        device_id=device.id,
        site_id=device.site_id,
        kind=kind,
        occurred_at=signal.at,
        payload=payload,
    )


@pytest.fixture(scope="module")
def stored(central: Central, world: World) -> dict[str, Any]:
    """Compound a's device with the known history, and a second device provisioned at noon
    that never reported."""
    compound = world.ids["a"]["compound_id"]
    with central.sessions() as session:
        device = session.get(Device, world.ids["a"]["device_id"])
        assert device is not None
        device.created_at = START - 24 * HOUR
        silent = Device(
            id="gate-silent",
            kind="gate",
            site_id=compound,
            public_key="k",
            mqtt_username="gate-silent",
            mqtt_password_hash="x",
            created_at=START + 12 * HOUR,
        )
        session.add(silent)
        session.add_all(_event(device, kind, signal) for kind, signal in history())
        session.commit()
    return {"compound": compound}


def test_site_availability_over_the_period(central: Central, stored: dict[str, Any]) -> None:
    with central.sessions() as session:
        figures = site_availability(session, [stored["compound"]], START, SPAN.end, AFTER_PERIOD)
    assert figures[stored["compound"]] == {
        "online_s": ONLINE_S,
        "device_s": 24 * 3600 + 12 * 3600,
    }


def test_a_period_not_over_counts_until_now(central: Central, stored: dict[str, Any]) -> None:
    now = START + 13 * HOUR
    with central.sessions() as session:
        figures = site_availability(session, [stored["compound"]], START, SPAN.end, now)
    assert figures[stored["compound"]] == {
        "online_s": 3 * 3600 + 3600,
        "device_s": 13 * 3600 + 3600,
    }


def test_the_report_shows_the_share_of_the_period(
    central: Central, world: World, stored: dict[str, Any]
) -> None:
    with central.sessions() as session:
        root = session.scalars(select(User).where(User.username == "root")).one()
        node = session.get(HierarchyNode, world.ids["a"]["node_id"])
        assert node is not None
        report = build_report(session, principal_of(session, root), node, SPAN, AFTER_PERIOD)
    rows = table(report)
    column = rows[0].index("设备在线率")
    expected = f"{ONLINE_S / (36 * 3600) * 100:.1f}%"
    shares = {row[0]: row[column] for row in rows[1:]}
    assert shares == {"compound a": expected, "outlet a": "—", "合计": expected}
