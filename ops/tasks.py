"""Celery tasks for maintenance: thin, with soft and hard time limits; ops.maintenance does the work.

Schedules live in config/beat.py. Each job takes its own advisory lock, so an overlapping run is recorded as
"skipped" instead of running twice.
"""

from __future__ import annotations

from celery import shared_task

from ops import analyze, maintenance


@shared_task(soft_time_limit=1800, time_limit=1860, acks_late=True)
def partitions_maintain(groups: list[str] | None = None) -> str:
    """Rollover, DEFAULT repair and retention (daily)."""
    return maintenance.partitions_maintain(groups=groups).outcome


@shared_task(soft_time_limit=3600, time_limit=3660, acks_late=True)
def cleanup_expired() -> str:
    return maintenance.cleanup_expired().outcome


@shared_task(soft_time_limit=3 * 3600, time_limit=3 * 3600 + 60, acks_late=True)
def reindex_bloated() -> str:
    return maintenance.reindex_bloated().outcome


@shared_task(soft_time_limit=600, time_limit=660, acks_late=True)
def analyze_after_load(batch_id: int) -> str:
    """ANALYZE the month partitions a committed batch wrote to (sent by claims after each load, by name).

    A batch under OPS_ANALYZE_MIN_CLAIMS claims is left to autovacuum: no job runs and nothing is recorded.
    """
    if not analyze.batch_is_large(batch_id=batch_id):
        return "small batch: not analyzed"
    return maintenance.analyze_after_load(batch_id=batch_id).outcome
