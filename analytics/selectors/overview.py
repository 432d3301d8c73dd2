"""1. Overview: KPIs of the last 30 service days against the 30 before, and claims per day for the chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from analytics.models import ClaimsDailyTotals, PlanDailyTotals, QueueDepthDaily
from analytics.periods import Period
from analytics.selectors.common import (
    ZERO,
    Kpi,
    Totals,
    latest_day,
    period_sums,
    queue_depth_at,
    totals_from_row,
    volume_kpis,
)

OVERVIEW_SOURCES = (ClaimsDailyTotals, PlanDailyTotals, QueueDepthDaily)


@dataclass(frozen=True)
class Overview:
    period: Period
    previous_period: Period
    current: Totals
    previous: Totals
    queue_day: dt.date  # the queue depth is counted at the end of this day ...
    queue_depth: int
    previous_queue_depth: int  # ... and of the same day one window earlier

    @property
    def previous_queue_day(self) -> dt.date:
        return self.queue_day - dt.timedelta(days=self.period.days)

    def kpis(self) -> list[Kpi]:
        cur, prev = self.current, self.previous
        return [
            *volume_kpis(cur, prev),
            Kpi(
                "queue_depth", "Open queue depth", "count", self.queue_depth, self.previous_queue_depth, False
            ),
            Kpi(
                "mean_processing_seconds",
                "Mean processing time",
                "seconds",
                cur.mean_processing_seconds,
                prev.mean_processing_seconds,
                False,
            ),
        ]


def overview_end(*, today: dt.date) -> dt.date:
    """Default last day of the overview window: the latest service day on file, else ``today``."""
    return latest_day(ClaimsDailyTotals, today=today) or today


def overview(*, end: dt.date, today: dt.date, days: int = 30) -> Overview:
    """KPIs of the ``days`` service days ending ``end`` against the ``days`` before (5 small queries).

    The open queue is a stock counted by the day of the status change, not by service date: when the window
    reaches the latest service day on file, it is counted at the end of ``today`` (claims for those days are
    still arriving and waiting), otherwise at the end of the window.
    """
    period = Period.ending(end, days)
    latest = latest_day(ClaimsDailyTotals, today=today)
    queue_day = today if latest is None or end >= latest else end
    previous = period.previous()
    periods = {"cur": period, "prev": previous}
    span = Q(day__range=(previous.start, period.end))
    day_fields = ("claims", "billed", "paid", "approved", "denied", "pended")
    claims = ClaimsDailyTotals.objects.filter(span).aggregate(**period_sums(day_fields, periods))
    processing = PlanDailyTotals.objects.filter(span).aggregate(
        **period_sums(("processed", "processing_seconds"), periods)
    )
    both = {**claims, **processing}
    fields = (*day_fields, "processed", "processing_seconds")
    return Overview(
        period=period,
        previous_period=previous,
        current=totals_from_row(both, "cur", fields),
        previous=totals_from_row(both, "prev", fields),
        queue_day=queue_day,
        queue_depth=queue_depth_at(queue_day),
        previous_queue_depth=queue_depth_at(queue_day - dt.timedelta(days=days)),
    )


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    claims: int
    billed: Decimal
    paid: Decimal
    approved: int
    denied: int


def claims_by_day(period: Period) -> list[DayRow]:
    """One row per day of ``period``, zeros on days without claims (a chart must not skip days)."""
    rows = {
        row["day"]: row
        for row in ClaimsDailyTotals.objects.filter(day__range=(period.start, period.end)).values(
            "day", "claims", "billed", "paid", "approved", "denied"
        )
    }
    empty: dict[str, Any] = {"claims": 0, "billed": ZERO, "paid": ZERO, "approved": 0, "denied": 0}
    return [DayRow(**{**empty, **rows.get(day, {}), "day": day}) for day in period.dates()]
