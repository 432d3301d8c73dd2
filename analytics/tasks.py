"""Celery tasks for analytics: thin, idempotent, with time limits; the services do the work.

Schedules live in config/beat.py (synced into django-celery-beat's tables, editable in the admin).
"""

from __future__ import annotations

from celery import shared_task

from analytics.services.refresh import GROUPS, REFRESHED_AFTER_BATCH, views_refresh
from analytics.services.summaries import summaries_rebuild, summaries_refresh_batch


@shared_task(soft_time_limit=600, time_limit=660, acks_late=True)
def refresh_view_group(group: str) -> dict[str, str]:
    """Refresh one cadence group ("realtime", "daily", "analytics"); returns {view: outcome}."""
    logs = views_refresh(views=GROUPS[group], trigger=f"beat:{group}")
    return {log.view: log.outcome for log in logs}


@shared_task(soft_time_limit=900, time_limit=960, acks_late=True)
def refresh_after_batch(batch_id: int) -> dict[str, str]:
    """After a batch commits: recompute the summary groups it touched, then refresh the views the pages read.

    The views are ``REFRESHED_AFTER_BATCH`` (analytics.services.refresh says which and why); the others wait
    for their beat group. Waits up to 60 s for a view whose refresh is already running, so the batch's claims
    are not left out. Returns {view or summary table: outcome}.
    """
    outcomes: dict[str, str] = {}
    for log in summaries_refresh_batch(batch_id=batch_id, trigger=f"ingest:batch {batch_id}"):
        outcomes[log.view] = log.outcome
    for log in views_refresh(views=REFRESHED_AFTER_BATCH, trigger=f"ingest:batch {batch_id}", lock_wait_s=60):
        outcomes[log.view] = log.outcome
    return outcomes


@shared_task(soft_time_limit=1800, time_limit=1860, acks_late=True)
def rebuild_summaries() -> dict[str, str]:
    """Nightly backstop: recompute every day of the summary tables."""
    return {log.view: log.outcome for log in summaries_rebuild(trigger="beat:nightly")}
