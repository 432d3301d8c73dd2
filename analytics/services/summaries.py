"""Incremental summaries: recompute only the groups a batch touched.

A full refresh of a day-grain view costs the whole claim table; the summary tables (``ClaimsDailyTotals``,
``PlanDailyTotals``, ``ProviderDailyTotals``) are kept current by deleting and re-inserting only the groups a
batch touched — its service days, (day, plan) and (day, billing provider) pairs — in one transaction, from the
same SELECT the materialized views use (``analytics.sql``), so refresh cost follows the batch, not the table.
``ProviderMonthlyTotals`` (the provider page's month grain) follows in the same transaction: the (month,
billing provider) pairs the batch touched, summed from the day rows just recomputed (``sql.PROVIDER_MONTHLY``,
the same SELECT as its full rebuild; it has no materialized view).

Late-arriving claims policy: a batch recomputes every group it touches, however old (its claims' groups, and
the groups of the claims it replaced or voided). Changes made outside ingest and validation (an admin edit, a
manual status change) are not tracked; the nightly ``summaries_rebuild`` (beat) recomputes everything and is
the backstop. Both paths are tested to give rows identical to the full-refresh views.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from analytics import sql
from analytics.models import RefreshKind, RefreshLog, RefreshOutcome
from ops.platform import locks


@dataclass(frozen=True)
class Summary:
    table: str
    columns: tuple[str, ...]  # the first is the grain column: "day", or "month" (its first day)
    select: str  # SQL with a {day_filter} placeholder ({groups} for the month grain: sql.PROVIDER_MONTHLY)
    # The full-refresh materialized view it mirrors; None for none (its reference is ``select`` over everything).
    view: str | None
    key: str | None = None  # the group column besides the day ("health_plan_id"), a claim column of that name
    # "day": groups of service days (claims, alias c); "month": of service months (the day rows, alias d).
    grain: str = "day"


_DAY_MONEY = ("claims", "members", "billed", "paid", "approved", "denied", "pended")
SUMMARIES: tuple[Summary, ...] = (
    Summary(
        "analytics_claimsdailytotals",
        ("day", *_DAY_MONEY, "open"),
        sql.CLAIMS_DAILY,
        "analytics_claims_daily_mv",
    ),
    Summary(
        "analytics_plandailytotals",
        ("day", "health_plan_id", *_DAY_MONEY, "processed", "processing_seconds"),
        sql.PLAN_DAILY,
        "analytics_plan_daily_mv",
        key="health_plan_id",
    ),
    Summary(
        "analytics_providerdailytotals",
        ("day", "billing_provider_id", "claims", "approved", "denied", "billed", "paid", "lines", "rvus"),
        sql.PROVIDER_DAILY,
        "analytics_provider_daily_mv",
        key="billing_provider_id",
    ),
    # After the provider day rows (it sums them): the order of SUMMARIES is the order they are recomputed in.
    Summary(
        "analytics_providermonthlytotals",
        ("month", "billing_provider_id", "claims", "approved", "denied", "billed", "paid", "lines", "rvus"),
        sql.PROVIDER_MONTHLY,
        None,
        key="billing_provider_id",
        grain="month",
    ),
)
_LOCK = "analytics.summaries"
# A batch's recompute waits this long for the one before it (a full rebuild at 1M claims takes ~25 s here).
_LOCK_TIMEOUT = "5min"


@dataclass(frozen=True)
class Touched:
    """The groups one batch touched: (service day, plan id, billing provider id) per claim, de-duplicated."""

    groups: tuple[tuple[dt.date, int, int], ...]

    @property
    def days(self) -> list[dt.date]:
        return sorted({g[0] for g in self.groups})

    def pairs(self, key: str, *, grain: str = "day") -> tuple[list[dt.date], list[int]]:
        """(days, ids): the touched (day, ``key``) pairs as two parallel lists, sorted; with ``grain="month"``
        the (first day of the month, ``key``) pairs."""
        unique: list[tuple[dt.date, int]] = sorted(
            {
                (g[0].replace(day=1) if grain == "month" else g[0], g[1] if key == "health_plan_id" else g[2])
                for g in self.groups
            }
        )
        return [p[0] for p in unique], [p[1] for p in unique]


def month_days(days: Sequence[dt.date]) -> tuple[list[dt.date], list[dt.date]]:
    """(months, days): the first days of the months of ``days``, and every day of those months, sorted."""
    months = sorted({day.replace(day=1) for day in days})
    every: list[dt.date] = []
    for month in months:
        day = month
        while day.month == month.month:
            every.append(day)
            day += dt.timedelta(days=1)
    return months, every


def _pair_names(summary: Summary) -> tuple[str, str]:
    """Parameter names of a keyed summary's (grain value, id) pair lists."""
    return f"pair_{summary.grain}s_{summary.key}", f"pair_{summary.grain}_ids_{summary.key}"


def batch_touched(*, batch_id: int) -> Touched:
    """Groups of a batch's claims and of the claims they replaced or voided (those changed status too)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.service_date_from, c.health_plan_id, c.billing_provider_id
            FROM claims_claim c WHERE c.batch_id = %(b)s
            UNION
            SELECT o.service_date_from, o.health_plan_id, o.billing_provider_id
            FROM claims_claim c
            JOIN claims_claim o ON o.id = c.related_claim_id AND o.service_date_from = c.related_service_date_from
            WHERE c.batch_id = %(b)s
            """,
            {"b": batch_id},
        )
        return Touched(groups=tuple(cursor.fetchall()))


def batch_touched_days(*, batch_id: int) -> list[dt.date]:
    """Service days of a batch's claims and of the claims they replaced or voided."""
    return batch_touched(batch_id=batch_id).days


def summaries_refresh_batch(*, batch_id: int, trigger: str = "manual") -> list[RefreshLog]:
    """Recompute the groups batch ``batch_id`` touched in every summary table (one transaction).

    Returns a log row per table. Raises ``DatabaseError`` (after logging it) on failure; the summaries are then
    left exactly as they were.
    """
    touched = batch_touched(batch_id=batch_id)
    months, days_of_months = month_days(touched.days)
    params: dict[str, Any] = {"days": touched.days, "months": months, "month_days": days_of_months}
    for summary in SUMMARIES:
        if summary.key is not None:
            grains, ids = touched.pairs(summary.key, grain=summary.grain)
            params.update(zip(_pair_names(summary), (grains, ids), strict=True))
    return _run(kind=RefreshKind.INCREMENTAL, trigger=trigger, scope="groups", params=params)


def summaries_refresh_days(*, days: Sequence[dt.date], trigger: str = "manual") -> list[RefreshLog]:
    """Recompute whole service ``days`` in every summary table (one transaction), and the whole months of
    those days in the month-grain ones; a log row per table."""
    months, days_of_months = month_days(days)
    params = {"days": sorted(set(days)), "months": months, "month_days": days_of_months}
    return _run(kind=RefreshKind.INCREMENTAL, trigger=trigger, scope="days", params=params)


def summaries_rebuild(*, trigger: str = "manual") -> list[RefreshLog]:
    """Recompute every day of every summary table (the nightly backstop and first fill)."""
    return _run(kind=RefreshKind.FULL, trigger=trigger, scope="all", params={})


def full_select(summary: Summary) -> str:
    """The SELECT of every row of ``summary``: what its full rebuild inserts (the reference of a summary with no
    materialized view)."""
    if summary.grain == "month":
        return summary.select.format(groups=sql.ALL_PROVIDER_MONTHS)
    return summary.select.format(day_filter=sql.ALL_DAYS)


def _statements(summary: Summary, scope: str) -> tuple[str, str]:
    """(DELETE, INSERT ... SELECT) of one summary table for a scope: "all", "days" or "groups"."""
    if summary.grain == "month":
        return _month_statements(summary, scope)
    if scope == "all":
        delete, where = f"DELETE FROM {summary.table}", sql.ALL_DAYS
    elif scope == "days" or summary.key is None:
        delete = f"DELETE FROM {summary.table} WHERE day = ANY(%(days)s)"
        where = sql.SOME_DAYS
    else:
        days, ids = _pair_names(summary)
        pairs = f"unnest(%({days})s::date[], %({ids})s::bigint[])"
        delete = (
            f"DELETE FROM {summary.table} t USING {pairs} AS k(day, id) "
            f"WHERE t.day = k.day AND t.{summary.key} = k.id"
        )
        # The day list prunes the claim partitions at plan time; the pairs pick the groups within them.
        where = f"{sql.SOME_DAYS} AND (c.service_date_from, c.{summary.key}) IN (SELECT * FROM {pairs})"
    columns = ", ".join(summary.columns)
    return delete, f"INSERT INTO {summary.table} ({columns}) {summary.select.format(day_filter=where)}"


def _month_statements(summary: Summary, scope: str) -> tuple[str, str]:
    """(DELETE, INSERT ... SELECT) of a month-grain summary: every pair ("all"), every pair of whole months
    ("days"), or the (month, key) pairs a batch touched ("groups")."""
    if scope == "all":
        delete, groups = f"DELETE FROM {summary.table}", sql.ALL_PROVIDER_MONTHS
    elif scope == "days" or summary.key is None:
        delete = f"DELETE FROM {summary.table} WHERE month = ANY(%(months)s)"
        groups = sql.SOME_PROVIDER_MONTHS
    else:
        months, ids = _pair_names(summary)
        groups = f"unnest(%({months})s::date[], %({ids})s::bigint[])"
        delete = (
            f"DELETE FROM {summary.table} t USING {groups} AS k(month, id) "
            f"WHERE t.month = k.month AND t.{summary.key} = k.id"
        )
    columns = ", ".join(summary.columns)
    return delete, f"INSERT INTO {summary.table} ({columns}) {summary.select.format(groups=groups)}"


def _run(*, kind: str, trigger: str, scope: str, params: dict[str, Any]) -> list[RefreshLog]:
    started = timezone.now()
    logs = [RefreshLog(view=s.table, kind=kind, trigger=trigger[:40], started_at=started) for s in SUMMARIES]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # One writer at a time: two batches touching the same group must not interleave delete and insert.
            locks.xact_lock(_LOCK, timeout=_LOCK_TIMEOUT)
            cursor.execute("SET LOCAL jit = off")  # see refresh._refresh_one
            for summary, log in zip(SUMMARIES, logs, strict=True):
                t0 = time.perf_counter()
                delete, insert = _statements(summary, scope)
                cursor.execute(delete, params)
                cursor.execute(insert, params)
                log.rows = cursor.rowcount
                log.duration_ms = round((time.perf_counter() - t0) * 1000, 2)  # type: ignore[assignment]
                log.finished_at = timezone.now()
                log.outcome = RefreshOutcome.SUCCESS
    except Exception as exc:
        for log in logs:
            log.outcome = RefreshOutcome.FAILED
            log.error = str(exc)[:2000]
            log.finished_at = timezone.now()
        RefreshLog.objects.bulk_create(logs)
        raise
    return RefreshLog.objects.bulk_create(logs)
