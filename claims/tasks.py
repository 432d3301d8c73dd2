"""Celery tasks of the claims app: thin, with time limits and a retry policy; the services do the work."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from claims.services import lifecycle
from claims.services.adjudication import claims_adjudicate
from claims.services.remittance import remittances_generate
from claims.services.validation import validation_parts_merge
from claims.x12.split import FileChanged, PartSpec, failed_part
from claims.x12.split import validate_part as part_validate

logger = logging.getLogger(__name__)


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


@shared_task(soft_time_limit=300, time_limit=330, acks_late=True)
def month_counts_compact() -> int:
    """Fold the month-count delta rows into one per (state, month) (claims.services.lifecycle), hourly, so the
    table the work queue and the jobs read their months from stays a few hundred rows. Returns the rows left."""
    return lifecycle.month_counts_compact()


# A part of ~10,000 claims takes 20-45 s of pyx12 on a free core; the limits leave room for a busy machine.
@shared_task(soft_time_limit=1200, time_limit=1260, acks_late=True)
def validate_part(path: str, spec: dict[str, Any]) -> dict[str, Any]:
    """pyx12 on one part of an 837P (``claims.x12.split.validate_part``; sent in a chord by
    ``claims.services.validation.validation_chord_send``). ``path``: the file, readable by this worker;
    ``spec``: the part's byte ranges and positions (``PartSpec.to_json``).

    Returns the part's result: positions, codes and value-free messages, no element value. Never raises and
    is not retried (pyx12 gives the same answer again): a part that times out or finds the file changed or
    unreadable returns a failed result, and the merge then validates the whole file itself.
    """
    try:
        return part_validate(Path(path), PartSpec.from_json(spec))
    except SoftTimeLimitExceeded:
        return failed_part(spec["index"], "timed_out", "the part ran past its time limit")
    except (FileChanged, OSError) as exc:
        logger.warning("validation part %s: %s", spec["index"], type(exc).__name__)
        return failed_part(spec["index"], "unreadable", type(exc).__name__)


# The merge validates again in its own process what the parts cannot be held to: at worst the whole file
# (~40 minutes for 1,000,000 claims on one core).
@shared_task(soft_time_limit=7200, time_limit=7260, acks_late=True)
def validate_merge(
    results: list[dict[str, Any]], *, path: str, plan: dict[str, Any], batch_id: int | None = None
) -> dict[str, Any]:
    """The chord's callback: merge the parts' ``results`` into the file's report and record it on batch
    ``batch_id`` (``claims.services.validation.validation_parts_merge``).

    Returns a summary, ``{"outcome", "errors", "claims", "parts"}``; the 999 itself goes to the batch only
    (its IK404 values may be PHI). Raises ``FileChanged`` when the file changed while its parts were
    validated: nothing is recorded and the batch stays pending.
    """
    report = validation_parts_merge(path=Path(path), plan=plan, results=results, batch_id=batch_id)
    return {
        "outcome": report.outcome,
        "errors": report.error_count,
        "claims": plan["claims"],
        "parts": len(plan["parts"]),
    }
