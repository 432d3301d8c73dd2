"""Refresh the analytics materialized views: in one fixed order, concurrently, one at a time per view.

**In what order views refresh** is said here and nowhere else: the order of ``ALL_VIEWS`` below, which is
``GROUPS`` as written (the "realtime", "daily", then "analytics" group, each group's views as listed).
``views_refresh`` puts whatever it is given into that order (``in_refresh_order``), whoever calls it: the beat
groups, the after-batch task, the ``refresh_analytics`` command, the tests. No view reads another view (each
reads the claim tables; the diagnosis view also the ICD-10-CM code table, a plain table), so no view declares
django-pgviews ``dependencies`` and a failure of one view does not stop the others. A view that reads another
view must be listed after it here (``test_no_view_reads_another_view`` says so when one does).

**Which views refresh after an ingest batch**: ``REFRESHED_AFTER_BATCH``, the views a page or export reads;
the others keep to their beat cadence (config/beat.py).

``views_refresh`` is the single entry point. For each view it takes a PostgreSQL advisory lock keyed on the
view (``ops.platform.locks.try_xact_lock``, waiting up to ``lock_wait_s``), runs ``REFRESH MATERIALIZED VIEW
CONCURRENTLY`` (readers are not blocked; PostgreSQL docs, "REFRESH MATERIALIZED VIEW"; a view no page reads
may opt out, see ProviderDaily), and records the run in ``RefreshLog`` (started, finished, duration in ms,
rows, outcome, error). A view whose lock another session holds is logged as "skipped", never refreshed twice
at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_pgviews.view import MaterializedView

from analytics.models import (
    ClaimsDailySummary,
    DiagnosisMonthly,
    FailedClaimsMonthly,
    PlanDaily,
    ProcessingRealtime,
    ProviderDaily,
    QueueDepthDaily,
    RefreshKind,
    RefreshLog,
    RefreshOutcome,
    RevenueMonthly,
    StatusFlowMonthly,
)
from ops.platform import ddl, locks

logger = logging.getLogger(__name__)

ViewClass = type[MaterializedView]

# Cadence groups (config/beat.py schedules them): real-time views every 5 minutes, day-grain views hourly,
# month-grain analytics every 30 minutes. Their order here is the refresh order (see the module docstring).
GROUPS: dict[str, tuple[ViewClass, ...]] = {
    "realtime": (ProcessingRealtime, QueueDepthDaily),
    "daily": (ClaimsDailySummary, PlanDaily, ProviderDaily),
    "analytics": (RevenueMonthly, DiagnosisMonthly, FailedClaimsMonthly, StatusFlowMonthly),
}
ALL_VIEWS: tuple[ViewClass, ...] = tuple(v for group in GROUPS.values() for v in group)

# Refreshed after every committed ingest batch (analytics.tasks.refresh_after_batch, which also recomputes the
# day summaries the batch touched): exactly the views a page or export reads (the ``*_SOURCES`` of
# analytics.selectors), so a batch reaches every page at once. Every view reads the claim tables, but the
# others are read by no page: the three day-grain views are the full-refresh references of the summary tables
# (the pages read the summaries), and ProcessingRealtime is shown nowhere. They keep their beat cadence.
# analytics/tests asserts this set against the SQL every page runs.
REFRESHED_AFTER_BATCH: tuple[ViewClass, ...] = (
    QueueDepthDaily,
    RevenueMonthly,
    DiagnosisMonthly,
    FailedClaimsMonthly,
    StatusFlowMonthly,
)

# A refresh that runs longer than this is stopped: a runaway refresh must not hold its lock for ever.
STATEMENT_TIMEOUT_MS = 300_000


def view_name(view: ViewClass) -> str:
    return view._meta.db_table


def by_name(name: str) -> ViewClass:
    """The view class for a table name or "app.Model" label. Raises KeyError for anything else."""
    for view in ALL_VIEWS:
        if name in (view_name(view), view._meta.label, view.__name__):
            return view
    raise KeyError(name)


def in_refresh_order(views: Iterable[ViewClass]) -> list[ViewClass]:
    """``views`` in the refresh order (the order of ``ALL_VIEWS``), each once.

    Raises ValueError for a view that is not in ``ALL_VIEWS``: only registered views are refreshed.
    """
    wanted = set(views)
    unknown = wanted.difference(ALL_VIEWS)
    if unknown:
        raise ValueError(f"not analytics views: {sorted(v.__name__ for v in unknown)}")
    return [view for view in ALL_VIEWS if view in wanted]


def views_refresh(
    *, views: Sequence[ViewClass] = ALL_VIEWS, trigger: str = "manual", lock_wait_s: float = 0.0
) -> list[RefreshLog]:
    """Refresh ``views`` concurrently in the refresh order; returns one ``RefreshLog`` per view, in that order.

    ``lock_wait_s``: how long to keep trying for a view whose refresh is running elsewhere before logging it
    as skipped (0 = skip at once). Never raises for a failing view: the failure is in its log row, and the
    next view is refreshed all the same. Raises ValueError (before refreshing anything) for a view that is
    not in ``ALL_VIEWS``.
    """
    logs: list[RefreshLog] = []
    for view in in_refresh_order(views):
        log = RefreshLog.objects.create(
            view=view_name(view), kind=RefreshKind.FULL, trigger=trigger[:40], started_at=timezone.now()
        )
        _refresh_one(view, log, lock_wait_s=lock_wait_s)
        logs.append(log)
    return logs


def _refresh_one(view: ViewClass, log: RefreshLog, *, lock_wait_s: float) -> None:
    name = view_name(view)
    start = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(STATEMENT_TIMEOUT_MS)])
            # A refresh runs once per cadence: JIT compilation costs seconds there and never pays back
            # (measured: 2.4 s of a 5.9 s diagnosis refresh at 100,000 claims).
            cursor.execute("SET LOCAL jit = off")
            if not locks.try_xact_lock(f"analytics.refresh:{name}", wait_s=lock_wait_s):
                _finish(log, RefreshOutcome.SKIPPED, error="another refresh of this view was running")
                return
            # The name comes from the model registry (ALL_VIEWS), never from input. A view may opt out of
            # CONCURRENTLY (refresh_concurrently = False) when no page reads it and its diff costs more than
            # the blocking refresh.
            concurrently = bool(getattr(view, "refresh_concurrently", True))
            # The owner's function: only a view's owner may refresh it (ops.platform.ddl).
            ddl.matview_refresh(cursor, view=name, concurrently=concurrently)
            cursor.execute(f'SELECT count(*) FROM "{name}"')
            (rows,) = cursor.fetchone()
    except DatabaseError as exc:
        logger.exception("refresh of %s failed", name)
        _finish(log, RefreshOutcome.FAILED, duration_s=time.perf_counter() - start, error=str(exc)[:2000])
        return
    _finish(log, RefreshOutcome.SUCCESS, duration_s=time.perf_counter() - start, rows=rows)


def _finish(
    log: RefreshLog,
    outcome: str,
    *,
    duration_s: float | None = None,
    rows: int | None = None,
    error: str = "",
) -> None:
    log.outcome = outcome
    log.finished_at = timezone.now()
    log.duration_ms = round(duration_s * 1000, 2) if duration_s is not None else None  # type: ignore[assignment]
    log.rows = rows
    log.error = error
    log.save(update_fields=["outcome", "finished_at", "duration_ms", "rows", "error"])


def last_success() -> dict[str, dt.datetime]:
    """Finish time of the last successful refresh of every view and summary table that has one.

    Shape: {table name: finished_at (aware datetime)}. One index scan per name (refreshlog_fresh_idx).
    """
    rows = (
        RefreshLog.objects.filter(outcome=RefreshOutcome.SUCCESS)
        .order_by("view", "-finished_at")
        .distinct("view")
        .values_list("view", "finished_at")
    )
    return {view: finished for view, finished in rows if finished is not None}
