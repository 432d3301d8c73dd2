"""Incremental summaries: recompute only the groups a batch touched.

A full refresh of a day-grain view costs the whole claim table; the summary tables (``ClaimsDailyTotals``,
``PlanDailyTotals``, ``ProviderDailyTotals``) are kept current by deleting and re-inserting only the groups a
batch touched — its service days (the day and the plan rows) and (day, billing provider) pairs — in one
transaction, from the same aggregates the materialized views use (``analytics.sql``), so refresh cost follows
the batch, not the table. ``ProviderMonthlyTotals`` (the provider page's month grain) follows in the same
transaction: the (month, billing provider) pairs the batch touched, summed from the day rows just recomputed
(``sql.PROVIDER_MONTHLY_PAIRS``, the same sums as its full rebuild ``sql.PROVIDER_MONTHLY``; it has no
materialized view).

The day rows and the plan rows come from one statement (``sql.DAY_AND_PLAN``: both grouping sets in one pass over
the claims, built from the same column expressions as the two views' SELECTs). The day rows need every claim of a
touched day (distinct members), so the plan rows are recomputed for the same whole days from that read rather
than for the touched (day, plan) pairs only: at 1M claims, reading the pairs' ~175,000 claims again by index took
~450 ms, the extra ~1,400 plan rows of whole days next to nothing. After a batch the same statement also writes
the touched (day, provider) pairs' rows, from the same read of the batch's days (``_steps``).

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
    # SQL with a {day_filter} placeholder over the claims (c), or over the day rows (d) for the month grain.
    select: str
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
_DAYS, _PLANS, _PROVIDERS = (s.table for s in SUMMARIES[:3])
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
        if summary.key is not None and summary.table != _PLANS:  # the plan rows: whole days
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
    return summary.select.format(day_filter=sql.ALL_DAYS)


@dataclass(frozen=True)
class _Step:
    """Statements that recompute one or more summary tables: a DELETE per table, then one INSERT (one row of the
    tables' inserted row counts when it writes several)."""

    summaries: tuple[Summary, ...]
    deletes: tuple[str, ...]
    insert: str


def _steps(scope: str) -> list[_Step]:
    """The statements of a refresh, in SUMMARIES order, for a scope: "all", "days" or "groups"."""
    days, plans, providers, *rest = SUMMARIES
    deletes = {s.table: _statements(s, scope)[0] for s in SUMMARIES if s.table != _PLANS}
    # The plan rows of whole days, with the day rows (module docstring).
    deletes[_PLANS] = f"DELETE FROM {_PLANS}" + ("" if scope == "all" else " WHERE day = ANY(%(days)s)")
    where = sql.ALL_DAYS if scope == "all" else sql.SOME_DAYS
    # The day rows (all_plans = 1) and the plan rows of the one DAY_AND_PLAN result, named totals.
    day_rows = [
        _insert(summary, f"SELECT {', '.join(summary.columns)} FROM totals WHERE all_plans = {all_plans}")
        for summary, all_plans in ((days, 1), (plans, 0))
    ]
    steps = []
    if scope == "groups":
        # A batch: its days' claims read once (a CTE) for the day, plan and provider rows; the touched (day,
        # provider) pairs' ~12,000 claims picked from them by a hash join, where fetching them by index took
        # 250-400 ms at 1M claims (~9,300 index probes), the CTE's extra writing and reading ~150 ms.
        source = "batch_claims"
        columns = ", ".join(f"c.{column}" for column in sql.DAY_CLAIM_COLUMNS)
        read = f"SELECT {columns} FROM claims_claim c WHERE {sql.EFFECTIVE} AND {sql.SOME_DAYS}"
        pair_days, pair_ids = _pair_names(providers)
        pairs = f"unnest(%({pair_days})s::date[], %({pair_ids})s::bigint[])"
        touched = f"(c.service_date_from, c.billing_provider_id) IN (SELECT * FROM {pairs})"
        provider_rows = sql.day_select(providers.key, sql.PROVIDER_DAILY_COLUMNS, source=source)
        ctes = [
            f"batch_claims AS MATERIALIZED ({read})",
            f"totals AS ({sql.day_and_plan_select(source=source).format(day_filter=sql.ALL_DAYS)})",
        ]
        inserted = [*day_rows, _insert(providers, provider_rows.format(day_filter=touched))]
        steps.append(
            _Step(
                (days, plans, providers),
                tuple(deletes[s.table] for s in (days, plans, providers)),
                _counted(ctes, inserted),
            )
        )
    else:
        ctes = [f"totals AS ({sql.DAY_AND_PLAN.format(day_filter=where)})"]
        steps.append(_Step((days, plans), (deletes[_DAYS], deletes[_PLANS]), _counted(ctes, day_rows)))
        steps.append(_Step((providers,), (deletes[_PROVIDERS],), _statements(providers, scope)[1]))
    steps.extend(
        _Step((summary,), (deletes[summary.table],), _statements(summary, scope)[1]) for summary in rest
    )
    return steps


def _insert(summary: Summary, select: str) -> str:
    """INSERT of ``select`` (the table's columns, in order) into the summary's table, a row count's worth of
    ``RETURNING 1`` (for _counted)."""
    return f"INSERT INTO {summary.table} ({', '.join(summary.columns)}) {select} RETURNING 1"


def _counted(ctes: list[str], inserts: list[str]) -> str:
    """One statement: the ``ctes``, then the ``inserts`` (each ``... RETURNING 1``) as data-modifying CTEs, and
    one row of their row counts (PostgreSQL docs, 7.8.4 "Data-Modifying Statements in WITH": each runs once)."""
    names = [f"inserted_{i}" for i in range(len(inserts))]
    parts = [*ctes, *(f"{name} AS ({insert})" for name, insert in zip(names, inserts, strict=True))]
    counts = ", ".join(f"(SELECT count(*) FROM {name})" for name in names)
    return "WITH " + ",\n".join(parts) + f"\nSELECT {counts}"


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
    columns = ", ".join(summary.columns)
    if scope == "all":
        delete, select = f"DELETE FROM {summary.table}", summary.select.format(day_filter=sql.ALL_DAYS)
    elif scope == "days" or summary.key is None:
        delete = f"DELETE FROM {summary.table} WHERE month = ANY(%(months)s)"
        select = summary.select.format(day_filter=sql.SOME_MONTH_DAYS)
    else:
        months, ids = _pair_names(summary)
        groups = f"unnest(%({months})s::date[], %({ids})s::bigint[])"
        delete = (
            f"DELETE FROM {summary.table} t USING {groups} AS k(month, id) "
            f"WHERE t.month = k.month AND t.{summary.key} = k.id"
        )
        select = sql.PROVIDER_MONTHLY_PAIRS.format(groups=groups)
    return delete, f"INSERT INTO {summary.table} ({columns}) {select}"


def _done(log: RefreshLog, started: float) -> None:
    """Mark ``log`` succeeded, its duration from ``started`` (a ``time.perf_counter()`` value) to now."""
    log.duration_ms = round((time.perf_counter() - started) * 1000, 2)  # type: ignore[assignment]
    log.finished_at = timezone.now()
    log.outcome = RefreshOutcome.SUCCESS


def _run(*, kind: str, trigger: str, scope: str, params: dict[str, Any]) -> list[RefreshLog]:
    started = timezone.now()
    logs = [RefreshLog(view=s.table, kind=kind, trigger=trigger[:40], started_at=started) for s in SUMMARIES]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # One writer at a time: two batches touching the same group must not interleave delete and insert.
            locks.xact_lock(_LOCK, timeout=_LOCK_TIMEOUT)
            cursor.execute("SET LOCAL jit = off")  # see refresh._refresh_one
            by_table = {log.view: log for log in logs}
            for step in _steps(scope):
                # A step's first table's log holds its DELETE and the INSERT (of every table of the step); the
                # others' their DELETE only.
                for summary, delete in reversed(list(zip(step.summaries, step.deletes, strict=True))):
                    t0 = time.perf_counter()
                    cursor.execute(delete, params)
                    if summary is step.summaries[0]:
                        cursor.execute(step.insert, params)
                        if len(step.summaries) > 1:
                            for other, rows in zip(step.summaries, cursor.fetchone(), strict=True):
                                by_table[other.table].rows = rows
                        else:
                            by_table[summary.table].rows = cursor.rowcount
                    _done(by_table[summary.table], t0)
    except Exception as exc:
        for log in logs:
            log.outcome = RefreshOutcome.FAILED
            log.error = str(exc)[:2000]
            log.finished_at = timezone.now()
        RefreshLog.objects.bulk_create(logs)
        raise
    return RefreshLog.objects.bulk_create(logs)
