"""Batched deletion of expired log rows, then ``VACUUM (ANALYZE)``.

Each batch is its own short transaction with ``SET LOCAL lock_timeout = '1s'``::

    DELETE FROM t WHERE id IN (SELECT id FROM t WHERE <time> < cutoff ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED)

Row locks only (no table lock beyond ROW EXCLUSIVE, which inserts do not conflict with), rows another session
holds are skipped rather than waited for, and a batch that still cannot get a lock within a second fails
alone (counted, retried after the pause). Between batches the job sleeps ``pause_s`` so autovacuum, WAL
shipping and replicas keep up. Afterwards one ``VACUUM (ANALYZE)`` per table (autocommit: VACUUM refuses to
run inside a transaction block) makes the freed space reusable and the statistics current.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DatabaseError, connections, transaction
from psycopg import sql

from ops import conf
from ops.platform import ddl

logger = logging.getLogger(__name__)

# A batch that keeps failing to lock (lock_timeout) this many times in a row ends that table's cleanup.
MAX_LOCK_FAILURES = 5


@dataclass(frozen=True)
class CleanupTarget:
    """A table whose rows expire ``retention_days`` after ``time_column`` (from the fixed registry below)."""

    table: str
    time_column: str
    retention_days: int | None = None  # None: OPS_CLEANUP_RETENTION_DAYS


TARGETS: tuple[CleanupTarget, ...] = (
    CleanupTarget("analytics_refreshlog", "started_at"),
    CleanupTarget("ops_taskrun", "started_at"),
    CleanupTarget("django_celery_results_taskresult", "date_done"),
)


@dataclass(frozen=True)
class CleanupStep:
    table: str
    time_column: str
    cutoff: dt.datetime  # rows with time_column < cutoff are deleted

    def describe(self, expired: int | None = None) -> str:
        count = f"{expired:,} rows" if expired is not None else "rows"
        return f"delete {count} of {self.table} with {self.time_column} < {self.cutoff:%Y-%m-%d %H:%M} UTC"


def plan(
    *, now: dt.datetime, targets: Sequence[CleanupTarget] = TARGETS, retention_days: int | None = None
) -> list[CleanupStep]:
    """One step per target, with its cutoff ``now - retention``. Pure."""
    default_days = retention_days if retention_days is not None else conf.cleanup_retention_days()
    return [
        CleanupStep(t.table, t.time_column, now - dt.timedelta(days=t.retention_days or default_days))
        for t in targets
    ]


def expired_count(step: CleanupStep, *, using: str = "default") -> int:
    with connections[using].cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {} < %s")
            .format(sql.Identifier(step.table), sql.Identifier(step.time_column))
            .as_string(cursor.connection),
            [step.cutoff],
        )
        return int(cursor.fetchone()[0])


@dataclass
class StepResult:
    table: str
    deleted: int = 0
    batches: int = 0
    lock_failures: int = 0
    vacuumed: bool = False


def apply_step(
    step: CleanupStep,
    *,
    batch_size: int | None = None,
    pause_s: float | None = None,
    vacuum: bool = True,
    using: str = "default",
) -> StepResult:
    """Delete ``step``'s expired rows in batches, then VACUUM (ANALYZE) the table. Returns counts."""
    size = batch_size or conf.cleanup_batch_size()
    pause = conf.cleanup_pause_s() if pause_s is None else pause_s
    result = StepResult(step.table)
    connection = connections[using]
    table, column = sql.Identifier(step.table), sql.Identifier(step.time_column)
    delete = sql.SQL(
        "DELETE FROM {t} WHERE id IN "
        "(SELECT id FROM {t} WHERE {c} < %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
    ).format(t=table, c=column)
    failures = 0
    while True:
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
                cursor.execute(delete.as_string(cursor.connection), [step.cutoff, size])
                deleted = cursor.rowcount
        except DatabaseError as exc:
            # lock_timeout: give the lock holders room and retry, a few times at most.
            failures += 1
            result.lock_failures += 1
            logger.warning("cleanup batch on %s failed (%s); retrying", step.table, exc)
            if failures >= MAX_LOCK_FAILURES:
                raise
            time.sleep(max(pause, 0.5))
            continue
        failures = 0
        result.batches += 1
        result.deleted += deleted
        if deleted < size:
            break
        time.sleep(pause)
    if vacuum and result.deleted and not connection.in_atomic_block:
        # VACUUM is the table owner's, and cannot run in a function: the owner's own connection (autocommit).
        with connections[ddl.OWNER_ALIAS].cursor() as cursor:
            cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(table).as_string(cursor.connection))
        result.vacuumed = True
    return result
