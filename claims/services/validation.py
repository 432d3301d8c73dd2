"""Implementation-guide validation of an ingested batch (pyx12), after the load.

Loading and validating are separate on purpose: tokenizing and mapping run at tens of thousands of claims per
second, pyx12's full 005010X222A1 validation at a few hundred (see ``claims.x12.validation``). The load commits
first; this step then stores the 999 outcome on the batch and moves the batch's claims out of "received":
to "validated" when the 999 accepts the file (A or E) and the claim's own code checks passed, else to
"pended" for a person to look at. It is idempotent: only claims still "received" move.
"""

from __future__ import annotations

from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from claims.models import ClaimStatus, IngestBatch, IngestStatus, ValidationOutcome
from claims.services.ingest import enqueue_analytics_refresh, file_sha256
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
        note_rejected = "999 rejected the transaction set: implementation guide errors"
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH moved AS (
                    UPDATE claims_claim
                    SET status = CASE WHEN %(accepted)s AND cardinality(code_check_errors) = 0
                                      THEN %(validated)s ELSE %(pended)s END,
                        processed_at = %(now)s
                    WHERE batch_id = %(batch)s AND status = %(received)s
                    RETURNING id, service_date_from, status, code_check_errors
                )
                INSERT INTO claims_claimstatushistory
                    (claim_id, claim_service_date_from, from_status, to_status, changed_at, source, note)
                SELECT id, service_date_from, %(received)s, status, %(now)s, 'validation',
                       CASE WHEN status = %(validated)s THEN ''
                            WHEN NOT %(accepted)s THEN %(note_rejected)s
                            ELSE left('code checks: ' || array_to_string(code_check_errors, '; '), 200) END
                FROM moved
                """,
                {
                    "accepted": accepted,
                    "validated": ClaimStatus.VALIDATED,
                    "pended": ClaimStatus.PENDED,
                    "received": ClaimStatus.RECEIVED,
                    "now": now,
                    "batch": batch_id,
                    "note_rejected": note_rejected,
                },
            )
        # Claims changed status: the analytics of their days are stale once this commits.
        transaction.on_commit(lambda: enqueue_analytics_refresh(batch_id=batch_id))
    return batch
