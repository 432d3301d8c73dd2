"""The monthly report as CSV (one row per plan) and as PDF (reportlab: pure Python, no system libraries).

Both take a ``selectors.MonthlyReport``, so they show what the page shows. CSV money is plain dollars with two
decimals ("1234.50"), rates are fractions 0..1 with 4 decimals, processing time is seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Protocol

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from analytics import formatting as fmt
from analytics.periods import month_end
from analytics.selectors import MonthlyReport, ReasonRow, ReportRow

CSV_COLUMNS = (
    "month",
    "plan_id",
    "payer_id",
    "plan",
    "claims",
    "billed",
    "paid",
    "approved",
    "denied",
    "pended",
    "approval_rate",
    "denial_rate",
    "processed",
    "mean_processing_seconds",
    "approved_billed",
    "denied_billed",
    "rvus",
    "code_check_claims",
)


class Writable(Protocol):
    """Where CSV goes: a text file, a StringIO, or the HttpResponse itself."""

    def write(self, text: str, /) -> object: ...


def _csv_text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula: names come from payers' files, and a cell
    starting with =, +, - or @ is a formula to Excel and LibreOffice (OWASP, "CSV Injection")."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def _csv_number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def report_csv(report: MonthlyReport, out: Writable) -> int:
    """Write a header and one row per plan with claims in the month; returns the number of plan rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.plans:
        t = row.totals
        seconds = t.mean_processing_seconds
        writer.writerow(
            [
                f"{report.month:%Y-%m}",
                row.plan_id,
                _csv_text(row.payer_id),
                _csv_text(row.plan_name),
                t.claims,
                fmt.json_money(t.billed),
                fmt.json_money(t.paid),
                t.approved,
                t.denied,
                t.pended,
                _csv_number(t.approval_rate),
                _csv_number(t.denial_rate),
                t.processed,
                "" if seconds is None else f"{seconds:.3f}",
                fmt.json_money(row.approved_billed),
                fmt.json_money(row.denied_billed),
                fmt.json_money(row.rvus),
                row.code_check_claims,
            ]
        )
    return len(report.plans)


# -- PDF --------------------------------------------------------------------------------------------------------

_HEADER_BG = colors.HexColor("#1f3a5f")
_ZEBRA = colors.HexColor("#f1f4f8")


def _table(
    rows: list[list[Any]], widths: list[float], *, numeric_from: int = 1, total_row: bool = False
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    extra = [("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold")] if total_row else []
    table.setStyle(
        TableStyle(
            [
                *extra,
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _ZEBRA]),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d1dc")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _summary(rows: list[tuple[str, str, str, str]]) -> Table:
    """Label / value pairs, two to a row."""
    table = Table(rows, colWidths=[2.0 * inch, 1.6 * inch, 2.6 * inch, 1.6 * inch], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#66768a")),
                ("TEXTCOLOR", (2, 0), (2, -1), colors.HexColor("#66768a")),
                ("FONTNAME", (1, 0), (1, -1), "Helvetica-Bold"),
                ("FONTNAME", (3, 0), (3, -1), "Helvetica-Bold"),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("LEFTPADDING", (2, 0), (2, -1), 36),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d1dc")),
            ]
        )
    )
    return table


def _plan_cells(row: ReportRow) -> list[str]:
    t = row.totals
    return [
        row.plan_name,
        row.payer_id,
        fmt.count(t.claims),
        fmt.money(t.billed),
        fmt.money(t.paid),
        fmt.pct(t.approval_rate),
        fmt.pct(t.denial_rate),
        fmt.count(t.pended),
        fmt.duration(t.mean_processing_seconds),
        fmt.number(row.rvus),
        fmt.count(row.code_check_claims),
    ]


def report_pdf(report: MonthlyReport, *, data_as_of: dt.datetime | None, plan_name: str = "") -> bytes:
    """The report as a landscape US-letter PDF: summary, per plan, failures, definitions."""
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10, textColor=colors.grey)
    buffer = io.BytesIO()
    title = f"Monthly claims report: {report.month:%B %Y}" + (f" ({plan_name})" if plan_name else "")
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(letter),
        leftMargin=0.5 * inch,
        rightMargin=0.5 * inch,
        topMargin=0.5 * inch,
        bottomMargin=0.5 * inch,
        title=title,
        author="Claims platform analytics",
    )
    story: list[Any] = [
        Paragraph(title, styles["Title"]),
        Paragraph(
            f"Service dates {report.month:%Y-%m-%d} to {month_end(report.month):%Y-%m-%d}. "
            f"Data as of {fmt.timestamp(data_as_of)}. Rates are shares of all claims.",
            small,
        ),
        Spacer(1, 10),
        Paragraph("Summary", styles["Heading2"]),
        _summary_table(report),
        Spacer(1, 10),
        Paragraph("Per plan", styles["Heading2"]),
        _per_plan_table(report),
    ]
    if report.top_denials:
        story += [
            Spacer(1, 10),
            Paragraph("Top denial reasons (CARC)", styles["Heading2"]),
            _top_denials_table(report.top_denials),
        ]
    story += [
        Spacer(1, 12),
        Paragraph(
            "Claims, dollars and outcomes by service date from the day summaries; RVUs and approved/denied "
            "billed from the monthly revenue view; code checks and denials from the failed-claims view. "
            "Replaced and voided claims are excluded. The open queue is counted by the day of the status "
            "change.",
            small,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _summary_table(report: MonthlyReport) -> Table:
    """The all-plans figures of the month, as label / value pairs."""
    total = report.all_plans
    t = total.totals
    return _summary(
        [
            ("Claims", fmt.count(t.claims), "Approved billed", fmt.money(total.approved_billed)),
            ("Billed", fmt.money(t.billed), "Denied billed", fmt.money(total.denied_billed)),
            ("Paid", fmt.money(t.paid), "RVUs", fmt.number(total.rvus)),
            (
                "Approved",
                f"{fmt.count(t.approved)} ({fmt.pct(t.approval_rate)})",
                "Claims with code-check problems",
                fmt.count(total.code_check_claims),
            ),
            (
                "Denied",
                f"{fmt.count(t.denied)} ({fmt.pct(t.denial_rate)})",
                "Rejected files",
                fmt.count(report.failed.files_rejected),
            ),
            ("Pended", fmt.count(t.pended), "Open queue at month end", fmt.count(report.queue_depth_end)),
            (
                "Mean processing",
                fmt.duration(t.mean_processing_seconds),
                "Processed",
                fmt.count(t.processed),
            ),
        ]
    )


def _per_plan_table(report: MonthlyReport) -> Table:
    """One row per plan, then the all-plans row in bold."""
    return _table(
        [
            [
                "Plan",
                "Payer ID",
                "Claims",
                "Billed",
                "Paid",
                "Approval",
                "Denial",
                "Pended",
                "Processing",
                "RVUs",
                "Code checks",
            ],
            *(_plan_cells(row) for row in report.plans),
            _plan_cells(report.all_plans),
        ],
        [
            2.1 * inch,  # plan
            0.9 * inch,  # payer id
            0.6 * inch,  # claims
            1.0 * inch,  # billed
            1.0 * inch,  # paid
            0.7 * inch,  # approval
            0.6 * inch,  # denial
            0.6 * inch,  # pended
            0.8 * inch,  # processing
            0.8 * inch,  # RVUs
            0.85 * inch,  # code checks
        ],
        numeric_from=2,
        total_row=True,
    )


def _top_denials_table(denials: list[ReasonRow]) -> Table:
    """The month's most frequent denial reasons: CARC, description, claims, billed."""
    return _table(
        [
            ["CARC", "Description", "Claims", "Billed"],
            *([r.reason, r.label, fmt.count(r.claims), fmt.money(r.billed)] for r in denials),
        ],
        [0.6 * inch, 5.5 * inch, 0.8 * inch, 1.2 * inch],
        numeric_from=2,
    )
