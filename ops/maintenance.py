"""Entry points of the maintenance jobs: each plans, applies (unless dry_run) and is recorded in TaskRun.

Celery tasks (ops.tasks) and the management commands call these; every job runs under its advisory lock
(ops.jobs), so a beat run and a manual run never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.utils import timezone

from ops import analyze, cleanup, conf, partitions, reindex
from ops.jobs import JobResult, job_run
from ops.models import TaskRun
from ops.platform.partitioning import registry

JOB_PARTITIONS = "partitions_maintain"
JOB_CLEANUP = "cleanup_expired"
JOB_REINDEX = "reindex_bloated"
JOB_ANALYZE = "analyze_after_load"


def partitions_maintain(
    *,
    dry_run: bool = False,
    groups: Sequence[str] | None = None,
    policy: partitions.Policy | None = None,
    archive_dir: Path | None = None,
) -> TaskRun:
    """Rollover (future months), DEFAULT repair and retention (archive, verify, drop) of claims and audit.

    ``groups`` ("claims", "audit") narrows the job; the run fails when any month failed (details list them).
    """
    chosen = [g for g in registry() if groups is None or g.name in groups]

    def work() -> JobResult:
        the_plan = partitions.plan(
            partitions.snapshot(groups=chosen),
            today=timezone.now().date(),
            policy=policy or partitions.Policy.from_settings(),
            groups=chosen,
        )
        details: dict[str, object] = {"plan": the_plan.describe()}
        if dry_run:
            return JobResult(0, details)
        result = partitions.apply(the_plan, archive_dir=archive_dir)
        details.update(result.as_details())
        if result.failed:
            raise RuntimeError("; ".join(result.failed))
        return JobResult(result.rows, details)

    name = JOB_PARTITIONS if groups is None else f"{JOB_PARTITIONS}:{','.join(sorted(groups))}"
    return job_run(name, work, dry_run=dry_run)


def cleanup_expired(
    *,
    dry_run: bool = False,
    targets: Sequence[cleanup.CleanupTarget] = cleanup.TARGETS,
    retention_days: int | None = None,
    batch_size: int | None = None,
    pause_s: float | None = None,
) -> TaskRun:
    """Delete expired log rows in short batches, then VACUUM (ANALYZE) each table that lost rows."""

    def work() -> JobResult:
        steps = cleanup.plan(now=timezone.now(), targets=targets, retention_days=retention_days)
        if dry_run:
            return JobResult(0, {"plan": [s.describe(cleanup.expired_count(s)) for s in steps]})
        details: dict[str, object] = {}
        total = 0
        for step in steps:
            r = cleanup.apply_step(step, batch_size=batch_size, pause_s=pause_s)
            details[step.table] = {
                "deleted": r.deleted,
                "batches": r.batches,
                "lock_failures": r.lock_failures,
                "vacuumed": r.vacuumed,
            }
            total += r.deleted
        return JobResult(total, details)

    return job_run(JOB_CLEANUP, work, dry_run=dry_run)


def reindex_bloated(
    *,
    dry_run: bool = False,
    threshold_pct: float | None = None,
    min_bytes: int | None = None,
    tables: Sequence[str] | None = None,
) -> TaskRun:
    """REINDEX INDEX CONCURRENTLY every B-tree index whose estimated bloat passes the threshold."""
    threshold = conf.reindex_bloat_pct() if threshold_pct is None else threshold_pct
    size = conf.reindex_min_bytes() if min_bytes is None else min_bytes

    def work() -> JobResult:
        todo = reindex.plan(
            reindex.index_bloat(min_bytes=size, tables=tables), threshold_pct=threshold, min_bytes=size
        )
        details: dict[str, object] = {"plan": [i.describe() for i in todo] or ["nothing to do"]}
        if dry_run:
            return JobResult(0, details)
        for item in todo:
            reindex.reindex(item.index)
        details["reindexed"] = [i.index for i in todo]
        return JobResult(len(todo), details)

    return job_run(JOB_REINDEX, work, dry_run=dry_run)


def analyze_after_load(*, batch_id: int, min_claims: int | None = None, dry_run: bool = False) -> TaskRun:
    """ANALYZE the month partitions batch ``batch_id`` wrote to, when it loaded enough claims."""

    def work() -> JobResult:
        tables = analyze.analyze_plan(batch_id=batch_id, min_claims=min_claims)
        if dry_run:
            return JobResult(0, {"plan": tables})
        return JobResult(0, {"batch": batch_id, "analyzed": analyze.analyze_tables(tables)})

    return job_run(JOB_ANALYZE, work, dry_run=dry_run)
