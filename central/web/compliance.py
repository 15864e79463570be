"""Per-outlet 三个100% rates over the last days, for the dashboard's compliance chart."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db.registry_models import Outlet
from central.parcels.rates import daily_rates, local_day
from central.security.scopes import Principal

MAX_DAYS = 31


class DayRates(BaseModel):
    """One outlet's local day: parcels started and the three rates in percent."""

    day: date
    parcels: int
    real_name_pct: float
    inspection_pct: float
    xray_pct: float


class OutletCompliance(BaseModel):
    """An outlet and its rates per day, oldest day first."""

    outlet_id: str
    name: str
    days: list[DayRates]


def last_days(now: datetime, zone: tzinfo, count: int) -> list[date]:
    """The ``count`` local days ending with today in ``zone``, oldest first."""
    today = local_day(now, zone)
    return [today - timedelta(days=back) for back in range(count - 1, -1, -1)]


def compliance(
    session: Session, user: Principal, days: list[date], zone: tzinfo
) -> list[OutletCompliance]:
    """Every outlet in the user's scope with its rates on each of ``days``."""
    outlets = session.scalars(
        select(Outlet).where(Outlet.id.in_(sorted(user.sites))).order_by(Outlet.name)
    )
    found = []
    for outlet in outlets:
        per_day = [daily_rates(session, outlet.id, day, zone) for day in days]
        found.append(
            OutletCompliance(
                outlet_id=outlet.id,
                name=outlet.name,
                days=[
                    DayRates(
                        day=r.day,
                        parcels=r.parcels,
                        real_name_pct=r.real_name_pct,
                        inspection_pct=r.inspection_pct,
                        xray_pct=r.xray_pct,
                    )
                    for r in per_day
                ],
            )
        )
    return found
