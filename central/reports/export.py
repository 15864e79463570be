"""A report as rows for the page, as an XLSX workbook (openpyxl) and as a PDF (fpdf2), each with
a chart of entries per day. The PDF needs a CJK font installed (Debian: fonts-noto-cjk)."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF, FontFace
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from central.reports.availability import availability
from central.reports.data import Report
from central.web.rollups import rates

TITLES = {"daily": "日报告", "weekly": "周会办", "monthly": "月研判"}
COLUMNS = (
    ("name", "场所"),
    ("entries", "通行"),
    ("denied", "拒绝"),
    ("unknown", "陌生人"),
    ("unknown_face_alarms", "陌生人告警"),
    ("availability", "设备在线率"),
    ("devices", "设备总数"),
    ("real_name", "实名率"),
    ("opened", "开箱率"),
    ("xray", "过机率"),
    ("open_alarms", "未结告警"),
    ("overdue_alarms", "超期告警"),
)
CJK_FONTS = (
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
)
"""Candidate fonts with Simplified Chinese glyphs, and their index in the collection."""
HEADINGS = FontFace(emphasis="", fill_color=(220, 230, 245))
"""Table headings without bold: the CJK font has a single style."""


class ReportFontMissing(RuntimeError):
    """No CJK font is installed, so the PDF cannot be written."""


def title(report: Report) -> str:
    """E.g. ``徐汇区 周会办 2026-11-23``."""
    return f"{report.node_name} {TITLES[report.window.period]} {report.window.first_day}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def table(report: Report) -> list[list[str]]:
    """Header row, a row per site, then the node's totals."""
    rows = [[label for _, label in COLUMNS]]
    named = [(site.name, site.counts) for site in report.sites]
    for name, counts in [*named, ("合计", report.totals)]:
        shares = {**rates(counts), "availability": availability(counts)}
        row = [name]
        for key, _ in COLUMNS[1:]:
            row.append(_percent(shares[key]) if key in shares else str(counts[key]))
        rows.append(row)
    return rows


def to_xlsx(report: Report) -> bytes:
    """A workbook: the figures sheet and a per-day entries sheet with a bar chart."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = TITLES[report.window.period]
    sheet.append([title(report)])
    for row in table(report):
        sheet.append([int(cell) if cell.isdigit() else cell for cell in row])
    days = book.create_sheet("每日通行")
    days.append(["日期", "通行"])
    for day, entries in report.daily_entries.items():
        days.append([day.isoformat(), entries])
    chart = BarChart()
    chart.title = "每日通行"
    chart.add_data(
        Reference(days, min_col=2, min_row=1, max_row=days.max_row), titles_from_data=True
    )
    chart.set_categories(Reference(days, min_col=1, min_row=2, max_row=days.max_row))
    days.add_chart(chart, "D2")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _font(pdf: FPDF) -> None:
    for path, number in CJK_FONTS:
        if path.is_file():
            pdf.add_font("cjk", fname=str(path), collection_font_number=number)
            pdf.set_font("cjk", size=9)
            return
    raise ReportFontMissing("no CJK font installed (apt-get install fonts-noto-cjk)")


def _bars(pdf: FPDF, series: dict[str, int], height_mm: float = 40.0) -> None:
    top = pdf.get_y() + 4
    left, width = pdf.l_margin, pdf.epw / max(len(series), 1)
    peak = max(series.values(), default=0) or 1
    for index, (label, value) in enumerate(series.items()):
        bar = height_mm * value / peak
        x = left + index * width
        pdf.set_fill_color(61, 139, 253)
        pdf.rect(x + width * 0.15, top + height_mm - bar, width * 0.7, bar, style="F")
        pdf.set_xy(x, top + height_mm + 1)
        pdf.cell(width, 4, label, align="C")
    pdf.set_y(top + height_mm + 8)


def to_pdf(report: Report) -> bytes:
    """A landscape A4 PDF: title, the figures table and the per-day entries chart."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.add_page()
    _font(pdf)
    pdf.set_font_size(16)
    pdf.cell(0, 10, title(report), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(9)
    window = report.window
    pdf.cell(
        0,
        6,
        f"{window.start.isoformat()} — {window.end.isoformat()}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    with pdf.table(headings_style=HEADINGS) as grid:
        for row in table(report):
            grid.row(row)
    pdf.ln(4)
    pdf.cell(0, 6, "每日通行", new_x="LMARGIN", new_y="NEXT")
    _bars(pdf, {day.strftime("%m-%d"): n for day, n in report.daily_entries.items()})
    return bytes(pdf.output())
