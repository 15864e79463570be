"""The 三个100% rates of an outlet's day: real name, open-box inspection and X-ray, in percent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from central.db.parcel_models import Parcel


@dataclass(frozen=True)
class DailyRates:
    """Counts of one outlet's parcels started on ``day`` (local calendar), and their rates."""

    outlet_id: str
    day: date
    parcels: int
    real_name: int
    inspected: int
    xray: int

    @staticmethod
    def _percent(part: int, whole: int) -> float:
        return round(100.0 * part / whole, 2) if whole else 100.0

    @property
    def real_name_pct(self) -> float:
        """Share of parcels sent under a verified real name."""
        return self._percent(self.real_name, self.parcels)

    @property
    def inspection_pct(self) -> float:
        """Share of parcels opened and inspected long enough."""
        return self._percent(self.inspected, self.parcels)

    @property
    def xray_pct(self) -> float:
        """Share of parcels that passed the X-ray machine."""
        return self._percent(self.xray, self.parcels)

    @property
    def complete(self) -> bool:
        """Whether all three rates are 100% (a day without parcels is)."""
        return self.parcels == self.real_name == self.inspected == self.xray


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of the local calendar ``day`` in ``zone``, in UTC."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The calendar day in ``zone`` that ``moment`` falls on."""
    return moment.astimezone(zone).date()


def daily_rates(session: Session, outlet_id: str, day: date, zone: tzinfo) -> DailyRates:
    """The outlet's rates for ``day``, counted over its parcels (refused ones included)."""
    start, end = day_bounds(day, zone)

    def count_true(column: InstrumentedAttribute[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((column, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(),
            count_true(Parcel.real_name),
            count_true(Parcel.inspected),
            count_true(Parcel.xray),
        ).where(Parcel.outlet_id == outlet_id, Parcel.started_at >= start, Parcel.started_at < end)
    ).one()
    return DailyRates(outlet_id, day, int(row[0]), int(row[1]), int(row[2]), int(row[3]))
