"""Implementation-guide validation of an ingested batch (pyx12), after the load.

Loading and validating are separate on purpose: tokenizing and mapping run at tens of thousands of claims per
second, pyx12's full 005010X222A1 validation at a few hundred (see ``claims.x12.validation``). The load commits
first; this step then stores the 999 outcome on the batch and moves the batch's claims out of "received":
to "validated" when the 999 accepts the file (A or E), else to "pended" for a person to look at (the claim's
own code checks are adjudication's to decide). It is idempotent: only claims still "received" move.

A file of more than ``CLAIMS_VALIDATION_PART_CLAIMS`` claims is validated in parts by Celery workers when any
answer (``claims.x12.split``): a chord of ``claims.tasks.validate_part`` tasks, one per part, and
``claims.tasks.validate_merge`` as its callback, which merges the parts into the report a single pyx12 run
gives and records it here (``batch_validation_record``). The tasks are sent by name with a path, byte ranges
and positions: no file content and no element value goes through the broker. With no worker answering, or a
file of one part, or the setting at 0, the file is validated in this process. Sending the same batch twice
(``validate_batches --pending`` run again while its parts are still being validated) validates it twice; the
second record writes the same outcome and moves no claim.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from celery import chord, current_app
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from claims.adjudication.edits import PendReason
from claims.models import Claim, ClaimStatus, IngestBatch, IngestStatus, StatusSource, ValidationOutcome
from claims.services.follow_ups import batch_follow_ups_send
from claims.services.lifecycle import StatusChange, claims_status_change
from claims.x12.split import SplitPlan, file_sha256, merge_parts, plan_parts
from claims.x12.validation import ValidationReport, validate_837

# How long batch_validate waits for a worker to answer a ping before validating in its own process.
WORKER_PING_SECONDS = 1.0


class BatchFileMismatch(ValueError):
    """The file given is not the one the batch was ingested from (sha256 differs)."""


def batch_validate(*, batch_id: int, path: Path, parallel: bool = True) -> IngestBatch:
    """Validate the file of batch ``batch_id`` with pyx12 and settle its claims' status.

    Returns the batch: validated, or still "pending" when its parts were sent to Celery workers (``parallel``
    and the module docstring's conditions); the chord's merge then records the outcome, and
    ``batches_wait_validated`` waits for it. Raises ``IngestBatch.DoesNotExist`` for an unknown batch and
    ``BatchFileMismatch`` when ``path`` is not the batch's file. A rejected batch is left alone.
    """
    batch = IngestBatch.objects.get(pk=batch_id)
    if batch.status == IngestStatus.REJECTED:
        return batch
    part_claims = int(getattr(settings, "CLAIMS_VALIDATION_PART_CLAIMS", 0))
    # The plan reads the file once, in chunks, and hashes it on the way: a changed file is refused before
    # anything is sent.
    plan = plan_parts(path, part_claims=part_claims) if parallel and part_claims > 0 else None
    if (plan.sha256 if plan is not None else file_sha256(path)) != batch.sha256:
        raise BatchFileMismatch(f"{path} is not the file of batch {batch_id}")
    if plan is not None and plan.split and validation_workers_available():
        sent, absolute = plan, path.resolve()  # a worker's working directory is not the caller's
        transaction.on_commit(lambda: validation_chord_send(path=absolute, plan=sent, batch_id=batch_id))
        return batch
    # pyx12 runs outside any transaction: it is slow and touches no table.
    return batch_validation_record(batch_id=batch_id, report=validate_837(path))


def batch_validation_record(*, batch_id: int, report: ValidationReport) -> IngestBatch:
    """Store ``report`` on batch ``batch_id`` and move its claims still "received" on (module docstring).

    Returns the updated batch. Raises ``IngestBatch.DoesNotExist`` for an unknown batch.
    """
    accepted = report.outcome in (ValidationOutcome.ACCEPTED, ValidationOutcome.ACCEPTED_WITH_ERRORS)
    now = timezone.now()
    with transaction.atomic():
        batch = IngestBatch.objects.select_for_update().get(pk=batch_id)
        batch.validation_status = report.outcome
        batch.validation_errors = report.errors
        batch.ack_999 = report.ack_999
        batch.validated_at = now
        batch.save(update_fields=["validation_status", "validation_errors", "ack_999", "validated_at"])
        received = Claim.objects.filter(batch_id=batch_id, status=ClaimStatus.RECEIVED).values_list(
            "id", "service_date_from", "code_check_errors"
        )
        claims_status_change(
            changes=[_settled(claim, accepted=accepted) for claim in received.order_by("id")],
            source=StatusSource.VALIDATION,
            at=now,
        )
        # Claims changed status: the analytics of their days are stale once this commits.
        transaction.on_commit(lambda: batch_follow_ups_send(event="validated", batch_id=batch_id))
    return batch


def validation_workers_available(*, timeout: float = WORKER_PING_SECONDS) -> bool:
    """Whether any Celery worker answers a ping within ``timeout`` seconds (a broker that cannot be reached
    counts as none: the file is then validated in this process)."""
    try:
        return bool(current_app.control.ping(timeout=timeout))
    except OSError:
        return False


def validation_chord_send(
    *, path: Path, plan: SplitPlan, batch_id: int | None = None, queue: str | None = None
) -> AsyncResult[Any]:
    """Send the validation of ``plan``'s parts to the workers: a chord of ``claims.tasks.validate_part``, one
    per part, with ``claims.tasks.validate_merge`` as its callback (which records the outcome on batch
    ``batch_id`` when given). ``queue``: a Celery queue for all of them (None: the default). Returns the
    callback's result; its value is a summary (``claims.tasks.validate_merge``), never the 999.
    """
    options = {"queue": queue} if queue else {}
    header = [
        current_app.signature("claims.tasks.validate_part", args=(str(path), spec.to_json()), **options)
        for spec in plan.parts
    ]
    callback = current_app.signature(
        "claims.tasks.validate_merge",
        kwargs={"path": str(path), "plan": plan.to_json(), "batch_id": batch_id},
        **options,
    )
    return chord(header)(callback)  # type: ignore[no-any-return]


def validation_parts_merge(
    *, path: Path, plan: dict[str, Any], results: list[dict[str, Any]], batch_id: int | None
) -> ValidationReport:
    """Merge the parts' results into the file's report (``claims.x12.split.merge_parts``) and, for a batch,
    record it (``batch_validation_record``). Raises ``split.FileChanged`` when the file changed meanwhile
    (nothing is recorded)."""
    report = merge_parts(path, SplitPlan.from_json(plan), results)
    if batch_id is not None:
        batch_validation_record(batch_id=batch_id, report=report)
    return report


def batches_wait_validated(*, batch_ids: list[int], timeout: float, poll: float = 1.0) -> list[int]:
    """Wait up to ``timeout`` seconds until batches ``batch_ids`` are validated (their merge recorded an
    outcome); returns the ids still pending then (empty when all were validated)."""
    deadline = time.monotonic() + timeout
    while True:
        pending = list(
            IngestBatch.objects.filter(
                pk__in=batch_ids, validation_status=ValidationOutcome.PENDING
            ).values_list("pk", flat=True)
        )
        if not pending or time.monotonic() >= deadline:
            return sorted(pending)
        time.sleep(poll)


def batches_not_validated() -> list[IngestBatch]:
    """Loaded batches whose pyx12 validation is still pending (ingested with ``--no-validate``, or whose
    validation never ran), oldest first. Rejected and still-processing batches are not among them."""
    return list(
        IngestBatch.objects.filter(
            validation_status=ValidationOutcome.PENDING,
            status__in=[IngestStatus.LOADED, IngestStatus.LOADED_WITH_WARNINGS],
        ).order_by("id")
    )


_NOTE_REJECTED = "999 rejected the transaction set: implementation guide errors"


def _settled(claim: tuple[int, dt.date, list[str]], *, accepted: bool) -> StatusChange:
    """A received claim after validation: validated when the 999 accepted its file, else pended with the reason.

    The claim's own code-check problems no longer pend it here: adjudication decides them (CO-16 with RARC M76
    or N257, claims.adjudication.engine), so an examiner sees only what needs a person.
    """
    claim_id, service_date_from, _problems = claim
    if accepted:
        return StatusChange(claim_id, service_date_from, ClaimStatus.RECEIVED, ClaimStatus.VALIDATED)
    return StatusChange(
        claim_id,
        service_date_from,
        ClaimStatus.RECEIVED,
        ClaimStatus.PENDED,
        _NOTE_REJECTED,
        pend_reason=PendReason.VALIDATION,
    )
