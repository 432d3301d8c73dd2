"""Incremental day-grain summaries: recompute only the groups a batch touched.

A full refresh of a day-grain view costs the whole claim table; the summary tables (``ClaimsDailyTotals``,
``PlanDailyTotals``, ``ProviderDailyTotals``) are kept current by deleting and re-inserting only the groups a
batch touched — its service days, (day, plan) and (day, billing provider) pairs — in one transaction, from the
same SELECT the materialized views use (``analytics.sql``), so refresh cost follows the batch, not the table.

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
    columns: tuple[str, ...]
    select: str  # SQL with a {day_filter} placeholder
    view: str  # the full-refresh materialized view it mirrors
    key: str | None = None  # the group column besides the day ("health_plan_id"), a claim column of that name


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

    def pairs(self, key: str) -> tuple[list[dt.date], list[int]]:
        unique: list[tuple[dt.date, int]] = sorted(
            {(g[0], g[1] if key == "health_plan_id" else g[2]) for g in self.groups}
        )
        return [p[0] for p in unique], [p[1] for p in unique]


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
    days = touched.days
    plans = touched.pairs("health_plan_id")
    providers = touched.pairs("billing_provider_id")
    params: dict[str, Any] = {
        "days": days,
        "pair_days_health_plan_id": plans[0],
        "pair_ids_health_plan_id": plans[1],
        "pair_days_billing_provider_id": providers[0],
        "pair_ids_billing_provider_id": providers[1],
    }
    return _run(kind=RefreshKind.INCREMENTAL, trigger=trigger, scope="groups", params=params)


def summaries_refresh_days(*, days: Sequence[dt.date], trigger: str = "manual") -> list[RefreshLog]:
    """Recompute whole service ``days`` in every summary table (one transaction); a log row per table."""
    return _run(
        kind=RefreshKind.INCREMENTAL, trigger=trigger, scope="days", params={"days": sorted(set(days))}
    )


def summaries_rebuild(*, trigger: str = "manual") -> list[RefreshLog]:
    """Recompute every day of every summary table (the nightly backstop and first fill)."""
    return _run(kind=RefreshKind.FULL, trigger=trigger, scope="all", params={})


def _statements(summary: Summary, scope: str) -> tuple[str, str]:
    """(DELETE, INSERT ... SELECT) of one summary table for a scope: "all", "days" or "groups"."""
    if scope == "all":
        delete, where = f"DELETE FROM {summary.table}", sql.ALL_DAYS
    elif scope == "days" or summary.key is None:
        delete = f"DELETE FROM {summary.table} WHERE day = ANY(%(days)s)"
        where = sql.SOME_DAYS
    else:
        pairs = f"unnest(%(pair_days_{summary.key})s::date[], %(pair_ids_{summary.key})s::bigint[])"
        delete = (
            f"DELETE FROM {summary.table} t USING {pairs} AS k(day, id) "
            f"WHERE t.day = k.day AND t.{summary.key} = k.id"
        )
        # The day list prunes the claim partitions at plan time; the pairs pick the groups within them.
        where = f"{sql.SOME_DAYS} AND (c.service_date_from, c.{summary.key}) IN (SELECT * FROM {pairs})"
    columns = ", ".join(summary.columns)
    return delete, f"INSERT INTO {summary.table} ({columns}) {summary.select.format(day_filter=where)}"


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
