"""Reports on the governance rhythm: after each China-time midnight, yesterday's 日报告; on
Mondays last week's 周会办; on the 1st last month's 月研判 — PDF and XLSX per node, into a folder.

Writing is idempotent (a report already on disk is kept), so a restart or a second worker
never duplicates one, and a day missed while down is written at the next run for that day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.audit.log import record
from central.core.periodic import Periodic
from central.db.base import utcnow
from central.db.registry_models import LEVELS, HierarchyNode, NodeLevel
from central.reports.availability import DEFAULT_OFFLINE_AFTER
from central.reports.data import Period, build_report, window
from central.reports.export import ReportFontMissing, to_pdf, to_xlsx
from central.security.scopes import Principal, sites_under
from central.web.rollups import CHINA_TZ

log = logging.getLogger(__name__)
ACTOR = "report-scheduler"
DEFAULT_LEVELS: tuple[NodeLevel, ...] = ("city", "district", "street")


class ReportScheduleConfig(BaseModel):
    """Scheduled reports; unknown keys are refused, naming the key."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Write reports on schedule.")
    folder: Path = Field(default=Path("anju-reports"), description="Where reports are written.")
    levels: list[NodeLevel] = Field(
        default_factory=lambda: list(DEFAULT_LEVELS),
        description=f"Node levels that get reports, of {', '.join(LEVELS)}.",
    )
    hour_local: int = Field(default=1, ge=0, le=23, description="China-time hour to run after.")
    check_interval_s: float = Field(default=300.0, gt=0, description="How often to look.")


def due_periods(today: date) -> list[Period]:
    """Periods that ended at ``today``'s midnight."""
    periods: list[Period] = ["daily"]
    if today.weekday() == 0:
        periods.append("weekly")
    if today.day == 1:
        periods.append("monthly")
    return periods


def _system_principal(session: Session, node: HierarchyNode) -> Principal:
    return Principal(ACTOR, ACTOR, "admin", node.id, node.path, sites_under(session, node.path))


def write_reports(
    session: Session,
    config: ReportScheduleConfig,
    today: date,
    now: datetime,
    alive_for: timedelta = DEFAULT_OFFLINE_AFTER,
) -> list[Path]:
    """Write the reports due at ``today`` for every node of the configured levels; new files
    (``alive_for``: how long a heartbeat keeps a device online, as in ``build_report``)."""
    yesterday = today - timedelta(days=1)
    nodes = session.scalars(select(HierarchyNode).where(HierarchyNode.level.in_(config.levels)))
    written: list[Path] = []
    for node in nodes:
        for period in due_periods(today):
            span = window(period, yesterday)
            base = config.folder / node.id / f"{period}-{span.first_day}"
            if base.with_suffix(".pdf").exists():
                continue
            principal = _system_principal(session, node)
            report = build_report(session, principal, node, span, now, alive_for)
            base.parent.mkdir(parents=True, exist_ok=True)
            base.with_suffix(".xlsx").write_bytes(to_xlsx(report))
            partial = base.with_suffix(".pdf.partial")
            partial.write_bytes(to_pdf(report))
            partial.replace(base.with_suffix(".pdf"))
            detail = {"period": period, "first_day": str(span.first_day)}
            record(session, ACTOR, "report.scheduled", node.id, None, detail)
            written.append(base.with_suffix(".pdf"))
    session.commit()
    return written


class ReportScheduler:
    """Runs ``write_reports`` once a day after ``hour_local`` in a daemon thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: ReportScheduleConfig,
        alive_for: timedelta = DEFAULT_OFFLINE_AFTER,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._alive_for = alive_for
        self._ticks = Periodic("report-scheduler", config.check_interval_s, self._tick)
        self.failures = 0

    def run_due(self, now: datetime) -> list[Path]:
        """Write what is due at ``now`` (nothing before ``hour_local``)."""
        local = now.astimezone(CHINA_TZ)
        if local.hour < self._config.hour_local:
            return []
        with self._sessions() as session:
            return write_reports(session, self._config, local.date(), now, self._alive_for)

    def start(self) -> None:
        """Start looking every ``check_interval_s``."""
        self._ticks.start()

    def stop(self) -> None:
        """Stop looking."""
        self._ticks.stop()

    def _tick(self) -> None:
        try:
            written = self.run_due(utcnow())
        except (ReportFontMissing, OSError) as exc:
            self.failures += 1
            log.error("reports_failed failures=%d error=%s", self.failures, exc)
            return
        if written:
            log.info("reports_written count=%d folder=%s", len(written), self._config.folder)
