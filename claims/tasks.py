"""Celery tasks of the claims app: thin, with time limits and a retry policy; the services do the work."""

from __future__ import annotations

from celery import shared_task

from claims.services.adjudication import claims_adjudicate
from claims.services.remittance import remittances_generate


@shared_task(
    soft_time_limit=900,
    time_limit=960,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    max_retries=3,
)
def adjudicate_batch(batch_id: int) -> dict[str, int]:
    """Decide the validated claims of batch ``batch_id`` (sent by name after the batch's validation commits).

    A failed run leaves its claims "validated", records why in ``AdjudicationRun``, and is retried (30 s, 60 s,
    120 s). Returns {status: claims decided}.
    """
    result = claims_adjudicate(batch_id=batch_id, trigger=f"task:batch {batch_id}")
    return dict(result.decided)


@shared_task(soft_time_limit=3600, time_limit=3660, acks_late=True)
def remit_cycle() -> dict[str, object]:
    """The weekly payment cycle: 835s for every decided claim not yet remitted (config/beat.py)."""
    run = remittances_generate()
    return {"run": run.pk, "payees": run.payees, "claims": run.claims, "paid": str(run.total_paid)}
