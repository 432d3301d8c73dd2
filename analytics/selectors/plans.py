"""3. Plan comparison: each plan's quarter beside the one before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from analytics.models import PlanDailyTotals
from analytics.periods import Quarter
from analytics.selectors.common import (
    PLAN_FIELDS,
    Kpi,
    Totals,
    latest_day,
    period_sums,
    totals_from_row,
    volume_kpis,
)

PLAN_SOURCES = (PlanDailyTotals,)


@dataclass(frozen=True)
class PlanComparisonRow:
    plan_id: int | None  # None: all plans
    plan_name: str
    current: Totals
    previous: Totals

    def metrics(self) -> list[Kpi]:
        cur, prev = self.current, self.previous
        return [
            *volume_kpis(cur, prev),
            Kpi(
                "mean_processing_seconds",
                "Avg processing",
                "seconds",
                cur.mean_processing_seconds,
                prev.mean_processing_seconds,
                False,
            ),
        ]


def default_quarter(*, today: dt.date) -> Quarter:
    """The latest quarter with data that has ended by the latest service day on file (a partial quarter
    against a full one would show a drop that is only missing days)."""
    latest = latest_day(PlanDailyTotals, today=today) or today
    quarter = Quarter.of(latest)
    return quarter if quarter.period.end <= latest else quarter.previous()


def plan_comparison(*, quarter: Quarter) -> list[PlanComparisonRow]:
    """Per plan, ``quarter`` against the one before (one query), plans by name, then an all-plans row."""
    periods = {"cur": quarter.period, "prev": quarter.previous().period}
    rows = (
        PlanDailyTotals.objects.filter(day__range=(periods["prev"].start, periods["cur"].end))
        .order_by("health_plan__name", "health_plan_id")
        .values("health_plan_id", "health_plan__name")
        .annotate(**period_sums(PLAN_FIELDS, periods))
    )
    result = [
        PlanComparisonRow(
            plan_id=row["health_plan_id"],
            plan_name=row["health_plan__name"],
            current=totals_from_row(row, "cur"),
            previous=totals_from_row(row, "prev"),
        )
        for row in rows
    ]
    total_cur = sum((r.current for r in result), Totals())
    total_prev = sum((r.previous for r in result), Totals())
    return [*result, PlanComparisonRow(None, "All plans", total_cur, total_prev)]
