"""Shapes and helpers the analytics page families share: totals and rates, KPIs, freshness, latest data.

Units as in ``analytics.selectors``: money is ``Decimal`` dollars, rates fractions 0..1 (None without claims),
processing times seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db import models
from django.db.models import Max, Q, QuerySet, Sum

from analytics.models import QueueDepthDaily, RefreshLog, RefreshOutcome
from analytics.periods import Period, add_months, month_end, month_start
from members.models import HealthPlan

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- freshness -----------------------------------------------------------------------------------------------------


def sources_refreshed(views: Iterable[type[models.Model]]) -> dict[str, dt.datetime] | None:
    """Each of ``views``' (view or summary-table models) last successful refresh, ``{db_table: finished_at}``
    (``RefreshLog.finished_at``, full or incremental); None when one of them has never refreshed, or none given.

    A refresh writes a new RefreshLog row, so this dict changes exactly when what the views hold may have:
    ``analytics.cache`` keys its answers on it. One query on the partial index ``refreshlog_fresh_idx``.
    """
    names = {view._meta.db_table for view in views}
    if not names:
        return None
    last = dict(
        RefreshLog.objects.filter(view__in=names, outcome=RefreshOutcome.SUCCESS, finished_at__isnull=False)
        .order_by()
        .values("view")
        .annotate(last=Max("finished_at"))
        .values_list("view", "last")
    )
    if names - last.keys():
        return None
    return last


def view_freshness(views: Iterable[type[models.Model]]) -> dt.datetime | None:
    """When ``views`` (view or summary-table models) were last brought up to date, for "data as of".

    The oldest of their last successful refreshes (``sources_refreshed``), because a page is only as fresh as
    the stalest source it reads; None when one of them has never refreshed.
    """
    last = sources_refreshed(views)
    return min(last.values()) if last else None


# -- shared shapes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Claim counts and dollars for a group of claims (a period, a plan, a provider)."""

    claims: int = 0
    billed: Decimal = ZERO
    paid: Decimal = ZERO
    approved: int = 0
    denied: int = 0
    pended: int = 0
    processed: int = 0
    processing_seconds: Decimal = ZERO

    @property
    def approval_rate(self) -> float | None:
        return _rate(self.approved, self.claims)

    @property
    def denial_rate(self) -> float | None:
        return _rate(self.denied, self.claims)

    @property
    def mean_processing_seconds(self) -> float | None:
        """Mean of processed_at - received_at over the processed claims (seconds)."""
        return float(self.processing_seconds) / self.processed if self.processed else None

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            **{name: getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__}
        )


# The ``Totals`` columns of the plan-day summary, and the columns summed as Decimal (a sum over no rows is 0.00).
PLAN_FIELDS = ("claims", "billed", "paid", "approved", "denied", "pended", "processed", "processing_seconds")
MONEY_FIELDS = {"billed", "paid", "processing_seconds", "approved_billed", "denied_billed", "rvus"}


def period_sums(fields: Sequence[str], periods: Mapping[str, Period]) -> dict[str, Sum]:
    """``Sum(field) FILTER (WHERE day BETWEEN ...)`` for each period and field, named ``<period>__<field>``."""
    return {
        f"{name}__{column}": Sum(
            column,
            filter=Q(day__range=(period.start, period.end)),
            default=ZERO if column in MONEY_FIELDS else 0,
        )
        for name, period in periods.items()
        for column in fields
    }


def totals_from_row(row: Mapping[str, Any], prefix: str, fields: Sequence[str] = PLAN_FIELDS) -> Totals:
    """``Totals`` from the ``<prefix>__<field>`` sums of one aggregate row (see ``period_sums``)."""
    return Totals(**{column: row[f"{prefix}__{column}"] for column in fields})


# -- latest data on file -------------------------------------------------------------------------------------------


def latest_day(model: type[models.Model], *, today: dt.date) -> dt.date | None:
    """The latest service day on file in a day-grain summary, not after ``today``.

    Pages default to the latest data rather than to today: service dates lag receipt, and demo data ends on
    a fixed day; a future-dated claim never moves the window.
    """
    latest: dt.date | None = model._default_manager.filter(day__lte=today).aggregate(latest=Max("day"))[
        "latest"
    ]
    return latest


def latest_month(model: type[models.Model], *, today: dt.date) -> dt.date | None:
    """The latest month on file in a month-grain view, not after ``today``'s month."""
    latest: dt.date | None = model._default_manager.filter(month__lte=today).aggregate(latest=Max("month"))[
        "latest"
    ]
    return latest


def latest_complete_month(model: type[models.Model], *, today: dt.date) -> dt.date:
    """The latest complete month on file in a day-grain summary: a month still filling up would look like a
    drop. The month of ``today`` when there is no data."""
    latest = latest_day(model, today=today) or today
    return month_start(latest) if latest == month_end(latest) else add_months(month_start(latest), -1)


def health_plans() -> QuerySet[HealthPlan]:
    """Every health plan by name (id, name and payer id only), for the plan filters."""
    return HealthPlan.objects.order_by("name").only("id", "name", "payer_id")


def queue_depth_at(day: dt.date) -> int:
    """Claims received, validated or pended at the end of ``day`` (0 before the first status change)."""
    depth = (
        QueueDepthDaily._default_manager.filter(day__lte=day)
        .order_by("-day")
        .values_list("depth", flat=True)
        .first()
    )
    # int(): the view's running sum() of bigints is numeric in PostgreSQL, which psycopg reads as Decimal.
    return int(depth or 0)


# -- KPIs and monthly series ---------------------------------------------------------------------------------------

KpiUnit = Literal["count", "money", "rate", "seconds"]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: KpiUnit
    current: int | Decimal | float | None
    previous: int | Decimal | float | None
    higher_is_better: bool | None  # None: neither (volume)

    @property
    def change(self) -> float | None:
        """Rates: the difference in percentage points; everything else: the relative change (0.1 = +10%)."""
        if self.current is None or self.previous is None:
            return None
        if self.unit == "rate":
            return (float(self.current) - float(self.previous)) * 100
        if not self.previous:
            return None
        return (float(self.current) - float(self.previous)) / float(self.previous)

    @property
    def trend(self) -> Literal["good", "bad", "flat", ""]:
        change = self.change
        if change is None or self.higher_is_better is None:
            return ""
        if abs(change) < 1e-9:
            return "flat"
        return "good" if (change > 0) == self.higher_is_better else "bad"


def volume_kpis(cur: Totals, prev: Totals) -> list[Kpi]:
    """Claims, dollars and outcome rates, current against previous: shared by the overview and plan pages."""
    return [
        Kpi("claims", "Claims", "count", cur.claims, prev.claims, None),
        Kpi("billed", "Billed", "money", cur.billed, prev.billed, None),
        Kpi("paid", "Paid", "money", cur.paid, prev.paid, None),
        Kpi("approval_rate", "Approval rate", "rate", cur.approval_rate, prev.approval_rate, True),
        Kpi("denial_rate", "Denial rate", "rate", cur.denial_rate, prev.denial_rate, False),
    ]


@dataclass(frozen=True)
class MonthlySeries:
    """Values per month for several keys (a chart's series), zeros where a month has none (None: suppressed,
    ``analytics.selectors.icd10.small_months_suppress``)."""

    months: list[dt.date]
    series: dict[str, list[int | None]]  # key -> one value per month
