"""Implementation-guide validation of an ingested batch (pyx12), after the load.

Loading and validating are separate on purpose: tokenizing and mapping run at tens of thousands of claims per
second, pyx12's full 005010X222A1 validation at a few hundred (see ``claims.x12.validation``). The load commits
first; this step then stores the 999 outcome on the batch and moves the batch's claims out of "received":
to "validated" when the 999 accepts the file (A or E), else to "pended" for a person to look at (the claim's
own code checks are adjudication's to decide). It is idempotent: only claims still "received" move.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from claims.adjudication.edits import PendReason
from claims.models import Claim, ClaimStatus, IngestBatch, IngestStatus, StatusSource, ValidationOutcome
from claims.services.follow_ups import batch_follow_ups_send
from claims.services.ingest import file_sha256
from claims.services.lifecycle import StatusChange, claims_status_change
from claims.x12.validation import validate_837


class BatchFileMismatch(ValueError):
    """The file given is not the one the batch was ingested from (sha256 differs)."""


def batch_validate(*, batch_id: int, path: Path) -> IngestBatch:
    """Validate the file of batch ``batch_id`` with pyx12 and settle its claims' status.

    Returns the updated batch. Raises ``IngestBatch.DoesNotExist`` for an unknown batch and
    ``BatchFileMismatch`` when ``path`` is not the batch's file. A rejected batch is left alone.
    """
    batch = IngestBatch.objects.get(pk=batch_id)
    if batch.status == IngestStatus.REJECTED:
        return batch
    raw = path.read_bytes()
    if file_sha256(raw) != batch.sha256:
        raise BatchFileMismatch(f"{path} is not the file of batch {batch_id}")
    # pyx12 runs outside any transaction: it is slow and touches no table.
    report = validate_837(path)
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
