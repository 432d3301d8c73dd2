"""Run a maintenance job once at a time (PostgreSQL advisory lock) and record it in ``TaskRun``.

The lock is session-level (``ops.platform.locks.session_lock``): a job spans several transactions (one per partition
month, one per cleanup batch, autocommit VACUUM / REINDEX CONCURRENTLY), and a transaction-level lock would be
released at the first commit. It is released in ``finally`` and, should the worker die, when its connection
closes. A second run that finds the lock held records outcome "skipped" and does nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from ops.models import TaskOutcome, TaskRun
from ops.platform import locks

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = "ops.job:"


@dataclass
class JobResult:
    """What a job's apply (or dry-run plan) reports: rows affected and a JSON-able summary."""

    rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def job_lock(job: str, *, using: str = "default") -> Iterator[bool]:
    """Yield True when this session got the job's advisory lock, False when another session holds it."""
    with locks.session_lock(LOCK_NAMESPACE + job, using=using) as acquired:
        yield acquired


def job_run(
    job: str, work: Callable[[], JobResult], *, dry_run: bool = False, using: str = "default"
) -> TaskRun:
    """Run ``work`` under the job's advisory lock and return its ``TaskRun`` (already saved).

    Never raises for a failing job: the exception text is in ``TaskRun.error`` (outcome "failed") and logged.
    The TaskRun row is written outside the job's transactions, so a failed job still leaves its record.
    """
    run = TaskRun.objects.using(using).create(job=job, started_at=timezone.now(), dry_run=dry_run)
    start = time.perf_counter()
    try:
        with job_lock(job, using=using) as acquired:
            if not acquired:
                run.outcome = TaskOutcome.SKIPPED
                run.error = "another run of this job holds its advisory lock"
            else:
                result = work()
                run.outcome = TaskOutcome.SUCCESS
                run.rows_affected = result.rows
                run.details = result.details
    except Exception as exc:  # recorded, never lost: the run log is the job's report
        logger.exception("maintenance job %s failed", job)
        run.outcome = TaskOutcome.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
    run.finished_at = timezone.now()
    run.duration_ms = round((time.perf_counter() - start) * 1000, 2)  # type: ignore[assignment]
    run.save(using=using)
    return run
