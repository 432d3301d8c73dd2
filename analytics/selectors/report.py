"""7. Monthly report: every KPI of a month, for all plans and per plan (the page, its CSV and PDF)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from analytics.models import FailedClaimsMonthly, PlanDailyTotals, QueueDepthDaily, RevenueMonthly
from analytics.periods import MonthRange
from analytics.selectors.common import PLAN_FIELDS, ZERO, Totals, queue_depth_at, totals_from_row
from analytics.selectors.failed import FailedClaims, ReasonRow, failed_claims

REPORT_SOURCES = (PlanDailyTotals, RevenueMonthly, FailedClaimsMonthly, QueueDepthDaily)


@dataclass(frozen=True)
class ReportRow:
    plan_id: int | None  # None: all plans
    plan_name: str
    payer_id: str
    totals: Totals
    approved_billed: Decimal = ZERO
    denied_billed: Decimal = ZERO
    rvus: Decimal = ZERO
    code_check_claims: int = 0


@dataclass(frozen=True)
class MonthlyReport:
    month: dt.date
    plan_id: int | None  # the report's plan filter
    all_plans: ReportRow
    plans: list[ReportRow]
    queue_depth_end: int  # open claims at the end of the month's last day
    failed: FailedClaims
    top_denials: list[ReasonRow] = field(default_factory=list)


def monthly_report(*, month: dt.date, plan_id: int | None = None) -> MonthlyReport:
    """Every KPI of ``month`` (service month), for all plans and per plan (4-5 queries)."""
    months = MonthRange(month, month)
    period = months.as_period()
    day_rows = PlanDailyTotals.objects.filter(day__range=(period.start, period.end))
    revenue_rows = RevenueMonthly._default_manager.filter(month=month)
    failed_rows = FailedClaimsMonthly._default_manager.filter(month=month, kind="code_check")
    if plan_id is not None:
        day_rows = day_rows.filter(health_plan_id=plan_id)
        revenue_rows = revenue_rows.filter(health_plan_id=plan_id)
        failed_rows = failed_rows.filter(health_plan_id=plan_id)
    per_plan = (
        day_rows.order_by("health_plan__name", "health_plan_id")
        .values("health_plan_id", "health_plan__name", "health_plan__payer_id")
        .annotate(**{f"m__{column}": Sum(column) for column in PLAN_FIELDS})
    )
    revenue = {
        row["health_plan_id"]: row
        for row in revenue_rows.values("health_plan_id", "approved_billed", "denied_billed", "rvus")
    }
    code_checks = dict(
        failed_rows.order_by()
        .values("health_plan_id")
        .annotate(n=Sum("claims"))
        .values_list("health_plan_id", "n")
    )
    plans = []
    for row in per_plan:
        plan = row["health_plan_id"]
        extra: Mapping[str, Any] = revenue.get(plan, {})
        plans.append(
            ReportRow(
                plan_id=plan,
                plan_name=row["health_plan__name"],
                payer_id=row["health_plan__payer_id"],
                totals=totals_from_row(row, "m"),
                approved_billed=extra.get("approved_billed", ZERO),
                denied_billed=extra.get("denied_billed", ZERO),
                rvus=extra.get("rvus", ZERO),
                code_check_claims=code_checks.get(plan, 0),
            )
        )
    all_plans = ReportRow(
        plan_id=None,
        plan_name="All plans",
        payer_id="",
        totals=sum((r.totals for r in plans), Totals()),
        approved_billed=sum((r.approved_billed for r in plans), ZERO),
        denied_billed=sum((r.denied_billed for r in plans), ZERO),
        rvus=sum((r.rvus for r in plans), ZERO),
        code_check_claims=sum(r.code_check_claims for r in plans),
    )
    failed = failed_claims(months=months, plan_id=plan_id)
    return MonthlyReport(
        month=month,
        plan_id=plan_id,
        all_plans=all_plans,
        plans=plans,
        queue_depth_end=queue_depth_at(period.end),
        failed=failed,
        top_denials=failed.denials[:5],
    )
