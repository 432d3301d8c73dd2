"""Incremental day-grain summaries: recompute only the service days a batch touched.

A full refresh of a day-grain view costs the whole claim table; the summary tables (``ClaimsDailyTotals``,
``PlanDailyTotals``, ``ProviderDailyTotals``) are kept current by deleting and re-inserting just the touched
days, in one transaction, from the same SELECT the materialized views use (``analytics.sql``), so refresh cost
follows the batch, not the table.

Late-arriving claims policy: a batch recomputes every service day it touches, however old (its claims' service
days, and the days of claims it replaced or voided). Changes made outside ingest and validation (an admin
edit, a manual status change) are not tracked per day; the nightly ``summaries_rebuild`` (beat) recomputes
every day and is the backstop. Both paths are tested to give identical rows to the full-refresh views.
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


@dataclass(frozen=True)
class Summary:
    table: str
    columns: tuple[str, ...]
    select: str  # SQL with a {day_filter} placeholder
    view: str  # the full-refresh materialized view it mirrors


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
    ),
    Summary(
        "analytics_providerdailytotals",
        ("day", "billing_provider_id", "claims", "approved", "denied", "billed", "paid", "lines", "rvus"),
        sql.PROVIDER_DAILY,
        "analytics_provider_daily_mv",
    ),
)
_LOCK = "analytics.summaries"


def batch_touched_days(*, batch_id: int) -> list[dt.date]:
    """Service days of a batch's claims and of the claims they replaced or voided."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT service_date_from FROM claims_claim WHERE batch_id = %(b)s
            UNION
            SELECT related_service_date_from FROM claims_claim
            WHERE batch_id = %(b)s AND related_service_date_from IS NOT NULL
            ORDER BY 1
            """,
            {"b": batch_id},
        )
        return [row[0] for row in cursor.fetchall()]


def summaries_refresh_days(*, days: Sequence[dt.date], trigger: str = "manual") -> list[RefreshLog]:
    """Recompute ``days`` in every summary table (one transaction); returns a log row per table.

    Rows for days that no longer have claims disappear. Raises ``DatabaseError`` (after logging it) on failure;
    the transaction then leaves the summaries exactly as they were.
    """
    day_list = sorted(set(days))
    return _run(
        kind=RefreshKind.INCREMENTAL,
        trigger=trigger,
        delete="DELETE FROM {table} WHERE day = ANY(%(days)s)",
        day_filter=sql.SOME_DAYS,
        params={"days": day_list},
    )


def summaries_rebuild(*, trigger: str = "manual") -> list[RefreshLog]:
    """Recompute every day of every summary table (the nightly backstop and first fill)."""
    return _run(
        kind=RefreshKind.FULL,
        trigger=trigger,
        delete="DELETE FROM {table}",
        day_filter=sql.ALL_DAYS,
        params={},
    )


def _run(
    *, kind: str, trigger: str, delete: str, day_filter: str, params: dict[str, Any]
) -> list[RefreshLog]:
    started = timezone.now()
    logs = [RefreshLog(view=s.table, kind=kind, trigger=trigger[:40], started_at=started) for s in SUMMARIES]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # One writer at a time: two batches touching the same day must not interleave delete and insert.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
            for summary, log in zip(SUMMARIES, logs, strict=True):
                t0 = time.perf_counter()
                cursor.execute(delete.format(table=summary.table), params)
                select = summary.select.format(day_filter=day_filter)
                cursor.execute(f"INSERT INTO {summary.table} ({', '.join(summary.columns)}) {select}", params)
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
