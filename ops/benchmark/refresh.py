"""Time the analytics refresh paths: every materialized view (full), the summary tables (full), and the
incremental summary refresh after a batch.

* Views: ``analytics.services.refresh.views_refresh`` over ``ALL_VIEWS`` (``REFRESH MATERIALIZED VIEW
  CONCURRENTLY``, or plainly for a view that opts out with ``refresh_concurrently = False``; one view at a time
  in dependency order); each view's time is its ``RefreshLog.duration_ms`` (the refresh and the row count
  after it), the total their sum, and the call's wall time beside it.
* Summaries, full: ``summaries_rebuild`` (every day of every summary table, one transaction).
* Summaries, incremental: ``summaries_refresh_batch``, the path the post-ingest task takes, for a 10,000-claim
  batch: the 10,000 most recently received claims (``received_at`` DESC, id DESC: what the latest ingests
  loaded) are assigned to a scratch ``IngestBatch`` inside a transaction that is rolled back afterwards, so the
  measured refresh recomputes exactly the groups such a batch touches (its days' day and plan rows, its (day,
  provider) and (month, provider) pairs), and the database is left as it was. The day, plan and
  provider-day rows come from one statement (``summaries._steps``): its time is in the day table's step, the
  plan and provider-day tables' steps hold only their DELETEs. Unless told not to, the summary tables are
  vacuumed between the rebuild and the incremental refresh, as autovacuum would have done before the next batch
  arrives: straight after a rebuild every row is dead twice over (delete all, insert all), which would charge
  the incremental refresh for a state production does not stay in.

Everything is logged in ``RefreshLog`` with trigger "benchmark", like any other refresh: the views and summaries
really are refreshed. The analytics services run on the default database connection.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connections, transaction

from analytics.models import RefreshLog, RefreshOutcome
from analytics.services.refresh import ALL_VIEWS, by_name, views_refresh
from analytics.services.summaries import SUMMARIES, batch_touched, summaries_rebuild, summaries_refresh_batch
from ops.benchmark.baseline import PLATFORM_SCHEMA, vacuum_analyze

BATCH_CLAIMS = 10_000
TRIGGER = "benchmark"

Log = Callable[[str], None]


@dataclass(frozen=True)
class RefreshStep:
    """One view or summary table refreshed once, from its ``RefreshLog`` row."""

    name: str  # view or summary table
    kind: str  # RefreshKind: "full" or "incremental"
    ms: float | None  # None when it did not run (skipped)
    rows: int | None  # rows in the view after a refresh; rows inserted into a summary table
    outcome: str  # RefreshOutcome
    error: str = ""
    concurrently: bool | None = None  # views: REFRESH ... CONCURRENTLY or plain; None for summary tables


@dataclass(frozen=True)
class RefreshPhase:
    """One refresh call: its steps, their ms summed, and the call's wall time (ms)."""

    what: str  # "views_refresh", "summaries_rebuild", "summaries_refresh_batch"
    steps: list[RefreshStep]
    wall_ms: float

    @property
    def total_ms(self) -> float:
        return round(sum(step.ms or 0.0 for step in self.steps), 2)

    @property
    def succeeded(self) -> bool:
        return all(step.outcome == RefreshOutcome.SUCCESS for step in self.steps)


@dataclass(frozen=True)
class RefreshBench:
    views: RefreshPhase
    summaries_full: RefreshPhase
    summaries_incremental: RefreshPhase
    batch_claims: int  # claims standing for the batch (fewer when the table holds fewer)
    batch_days: int  # distinct service days they touch
    batch_first_day: dt.date | None
    batch_last_day: dt.date | None
    vacuum_before_incremental_ms: float | None  # VACUUM (ANALYZE) of the summary tables; None: not vacuumed

    @property
    def phases(self) -> tuple[RefreshPhase, ...]:
        return (self.views, self.summaries_full, self.summaries_incremental)


class _RollBack(Exception):
    """Raised to undo the scratch batch once its refresh has been timed."""


def _incremental_for_recent_batch(*, claims: int, using: str) -> tuple[int, list[dt.date], RefreshPhase]:
    """Time ``summaries_refresh_batch`` for the ``claims`` latest claims as one batch, then undo everything."""
    from claims.models import IngestBatch

    result: list[tuple[int, list[dt.date], RefreshPhase]] = []
    try:
        with transaction.atomic(using=using):
            batch = IngestBatch.objects.using(using).create(
                file_name="benchmark: latest claims as one batch", sha256="0" * 64, size_bytes=0
            )
            with connections[using].cursor() as cursor:
                cursor.execute(
                    """
                    UPDATE claims_claim SET batch_id = %(batch)s
                    WHERE (id, service_date_from) IN (
                        SELECT id, service_date_from FROM claims_claim
                        ORDER BY received_at DESC, id DESC LIMIT %(claims)s
                    )
                    """,
                    {"batch": batch.id, "claims": claims},
                )
                taken = cursor.rowcount
            days = batch_touched(batch_id=batch.id).days
            phase = _phase(
                "summaries_refresh_batch", lambda: summaries_refresh_batch(batch_id=batch.id, trigger=TRIGGER)
            )
            result.append((taken, days, phase))
            raise _RollBack
    except _RollBack:
        pass
    return result[0]


def _concurrently(name: str) -> bool | None:
    # The same attribute refresh._refresh_one reads; None for a summary table.
    try:
        return bool(getattr(by_name(name), "refresh_concurrently", True))
    except KeyError:
        return None


def _steps(logs: Sequence[RefreshLog]) -> list[RefreshStep]:
    return [
        RefreshStep(
            name=log.view,
            kind=log.kind,
            ms=float(log.duration_ms) if log.duration_ms is not None else None,
            rows=log.rows,
            outcome=log.outcome,
            error=log.error,
            concurrently=_concurrently(log.view),
        )
        for log in logs
    ]


def _phase(what: str, call: Callable[[], Sequence[RefreshLog]]) -> RefreshPhase:
    started = time.perf_counter()
    logs = call()
    return RefreshPhase(
        what=what, steps=_steps(logs), wall_ms=round((time.perf_counter() - started) * 1000, 2)
    )


def run_refresh(*, vacuum: bool = True, using: str = "default", log: Log) -> RefreshBench:
    """Refresh every view, rebuild the summaries, then refresh the recent batch's days; see the module docstring.

    ``vacuum``: VACUUM (ANALYZE) the summary tables between the rebuild and the incremental refresh.

    A failing view is reported in its step (``views_refresh`` never raises for one); a failing summary
    refresh raises ``DatabaseError`` (the summaries are left as they were).
    """
    views = _phase("views_refresh", lambda: views_refresh(views=ALL_VIEWS, trigger=TRIGGER))
    log(f"refresh: {len(views.steps)} views in {views.total_ms:,.0f} ms (wall {views.wall_ms:,.0f} ms)")
    full = _phase("summaries_rebuild", lambda: summaries_rebuild(trigger=TRIGGER))
    log(f"refresh: summaries rebuilt in {full.total_ms:,.0f} ms (wall {full.wall_ms:,.0f} ms)")
    vacuum_ms = None
    if vacuum:
        tables = tuple(summary.table for summary in SUMMARIES)
        vacuum_ms = round(vacuum_analyze(PLATFORM_SCHEMA, tables, using=using) * 1000, 2)
    taken, days, incremental = _incremental_for_recent_batch(claims=BATCH_CLAIMS, using=using)
    log(
        f"refresh: batch of the {taken:,} latest claims ({len(days)} service days) in "
        f"{incremental.total_ms:,.0f} ms (wall {incremental.wall_ms:,.0f} ms)"
    )
    return RefreshBench(
        views=views,
        summaries_full=full,
        summaries_incremental=incremental,
        batch_claims=taken,
        batch_days=len(days),
        batch_first_day=days[0] if days else None,
        batch_last_day=days[-1] if days else None,
        vacuum_before_incremental_ms=vacuum_ms,
    )
