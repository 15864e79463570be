"""Reports, charts and event search in Chromium: the figures reach the page and the exports."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from central.reports.data import Period, window
from central.reports.schedule import ReportScheduleConfig, ReportScheduler, due_periods
from central.web.rollups import CHINA_TZ
from edge.contract import AccessDecision
from tests.e2e.conftest import Stack
from tests.e2e.stack import api_token, publish

SignIn = Callable[[Page, str], None]
Shot = Callable[[Page, str], None]
DENIALS = 2


def publish_denials(stack: Stack) -> None:
    """Two card denials at compound a, waited for until stored."""
    denied = AccessDecision(
        gate_id=stack.places.ids["gate_a"], decision="denied", reason="revoked", method="card"
    )
    headers = {"Authorization": f"Bearer {api_token(stack.base, 'opa')}"}
    url = f"{stack.base}/api/dashboard/events?decision=denied"
    before = len(httpx.get(url, headers=headers).json())
    publish(stack.broker_port, stack.gate, [denied] * DENIALS)
    deadline = time.monotonic() + 10
    while len(httpx.get(url, headers=headers).json()) < before + DENIALS:
        assert time.monotonic() < deadline, "denials were not stored"
        time.sleep(0.1)


def test_event_search_and_charts(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    publish_denials(stack)
    sign_in(page, "opa")
    page.click("nav button[data-tab=events]")
    page.select_option("#event-form select[name=decision]", "denied")
    page.click("#event-form button")
    rows = page.locator("#event-rows tr")
    expect(rows.first).to_contain_text("denied")
    assert all("denied" in text for text in rows.all_inner_texts())
    page.click("nav button[data-tab=charts]")
    expect(page.locator("#chart-rates .main-svg").first).to_be_visible()
    expect(page.locator("#chart-status")).to_have_text("")
    screenshot(page, "charts")


def test_report_in_page_and_exports(
    page: Page, stack: Stack, sign_in: SignIn, screenshot: Shot
) -> None:
    publish_denials(stack)
    sign_in(page, "opa")
    page.click("nav button[data-tab=reports]")
    page.select_option("#rep-node", stack.places.ids["street_a"])
    page.select_option("#report-form select[name=period]", "weekly")
    page.click("#report-form button[data-i18n=generate]")
    expect(page.locator("#rep-title")).to_contain_text("街道A 周会办")
    total = page.locator("#rep-table tr").last
    expect(total).to_contain_text("合计")
    denied = int(total.locator("td").nth(2).inner_text())
    assert denied >= DENIALS
    expect(page.locator("#rep-table")).not_to_contain_text(stack.places.names["compound_b"])
    expect(page.locator("#rep-chart .main-svg").first).to_be_visible()
    screenshot(page, "report-weekly")
    with page.expect_download() as pdf_download:
        page.click("#rep-pdf")
    pdf = pdf_download.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    with page.expect_download() as xlsx_download:
        page.click("#rep-xlsx")
    with open(xlsx_download.value.path(), "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    figures = list(book.worksheets[0].iter_rows(values_only=True))
    assert figures[1][:3] == ("场所", "通行", "拒绝")
    assert figures[-1][0] == "合计" and figures[-1][2] == denied


@pytest.mark.parametrize(
    ("period", "day", "first", "days"),
    [
        ("daily", date(2026, 11, 26), date(2026, 11, 26), 1),
        ("weekly", date(2026, 11, 26), date(2026, 11, 23), 7),
        ("monthly", date(2026, 2, 14), date(2026, 2, 1), 28),
        ("monthly", date(2026, 12, 31), date(2026, 12, 1), 31),
    ],
)
def test_report_windows_follow_china_days(
    period: Period, day: date, first: date, days: int
) -> None:
    span = window(period, day)
    assert span.first_day == first
    assert span.start == datetime(first.year, first.month, first.day, tzinfo=CHINA_TZ)
    assert span.start.astimezone(UTC).hour == 16
    assert (span.end - span.start).days == days


def test_scheduled_reports_are_written_once_per_period(stack: Stack, tmp_path: Path) -> None:
    config = ReportScheduleConfig(enabled=True, folder=tmp_path / "reports", levels=["street"])
    monday_1st = date(2026, 6, 1)
    scheduler = ReportScheduler(stack.sessions, config)
    before_hour = datetime(2026, 6, 1, 0, 30, tzinfo=CHINA_TZ)
    assert scheduler.run_due(before_hour) == []
    written = scheduler.run_due(datetime(2026, 6, 1, 2, 0, tzinfo=CHINA_TZ))
    names = sorted(path.name for path in written)
    assert names == sorted(
        f"{period}-{first}.pdf"
        for period, first in (
            ("daily", "2026-05-31"),
            ("weekly", "2026-05-25"),
            ("monthly", "2026-05-01"),
        )
        for _street in ("a", "b")
    )
    assert {path.parent.name for path in written} == {
        stack.places.ids["street_a"],
        stack.places.ids["street_b"],
    }
    assert all(path.read_bytes()[:5] == b"%PDF-" for path in written)
    assert all(path.with_suffix(".xlsx").stat().st_size > 0 for path in written)
    assert scheduler.run_due(datetime(2026, 6, 1, 3, 0, tzinfo=CHINA_TZ)) == []
    assert due_periods(monday_1st) == ["daily", "weekly", "monthly"]
    assert due_periods(date(2026, 6, 3)) == ["daily"]
