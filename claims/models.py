"""Professional claims (X12 837P, 005010X222A1), their service lines, status history and ingest batches.

``Claim`` and ``ClaimLine`` are range-partitioned by month on the claim's first service date
(``service_date_from``). A claim's lines carry the same key, so a claim and its lines always sit in the same
month's partitions, the composite foreign key (claim_id, service_date_from) can be enforced, and a
date-filtered query prunes partitions on both tables (PostgreSQL docs, "Partition Pruning", 5.11.4).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Upper
from psqlextra.types import PostgresPartitioningMethod

from claims.lifecycle import OPEN_STATUSES, ClaimStatus, StatusSource
from ops.platform.models import RunOutcome
from ops.platform.partitioning import MonthForeignKey, PlainPkPartitionedModel

# The lifecycle vocabulary lives in claims.lifecycle; named here too because every reader of claims needs it.
__all__ = [
    "OPEN_STATUSES",
    "Claim",
    "AdjudicationRun",
    "ClaimAdjustment",
    "ClaimLine",
    "ClaimNumber",
    "ClaimRelation",
    "ClaimStatus",
    "ClaimStatusHistory",
    "Remittance",
    "RemittanceRun",
    "DiagnosisCodeSystem",
    "FrequencyCode",
    "IngestBatch",
    "IngestStatus",
    "StatusSource",
    "ValidationOutcome",
]


class FrequencyCode(models.TextChoices):
    """Claim frequency type code (CLM05-3, NUBC code list 235)."""

    ORIGINAL = "1", "Original"
    REPLACEMENT = "7", "Replacement of prior claim"
    VOID = "8", "Void/cancel of prior claim"


class ClaimRelation(models.TextChoices):
    """How a claim relates to ``related_claim``."""

    DUPLICATE_OF = "duplicate_of", "Exact duplicate of"
    REPLACES = "replaces", "Replaces"
    VOIDS = "voids", "Voids"


class DiagnosisCodeSystem(models.TextChoices):
    """Code list qualifier of HI01-1: ABK/ABF are ICD-10-CM, BK/BF are ICD-9-CM."""

    ICD10CM = "icd10cm", "ICD-10-CM"
    ICD9CM = "icd9cm", "ICD-9-CM"


class IngestStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    LOADED = "loaded", "Loaded"
    LOADED_WITH_WARNINGS = "loaded_with_warnings", "Loaded with warnings"
    REJECTED = "rejected", "Rejected"


class ValidationOutcome(models.TextChoices):
    """pyx12 implementation-guide validation, as reported in the 999 acknowledgment (IK5/AK9 codes)."""

    PENDING = "pending", "Not validated yet"
    ACCEPTED = "accepted", "Accepted (A)"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors", "Accepted with errors (E)"
    REJECTED = "rejected", "Rejected (R)"


class IngestBatch(models.Model):
    """One 837P file as received: its identity (sha256), what was loaded from it, and what was wrong with it.

    ``warnings`` and ``errors`` are lists of ``{"position": int, "segment": str, "element": str, "message": str}``
    where ``position`` is the 1-based segment number in the file.
    """

    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, unique=True)
    size_bytes = models.BigIntegerField()
    status = models.CharField(max_length=24, choices=IngestStatus.choices, default=IngestStatus.PROCESSING)
    interchange_count = models.PositiveIntegerField(default=0)
    transaction_count = models.PositiveIntegerField(default=0)
    claim_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    total_charge = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    warning_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    validation_status = models.CharField(
        max_length=24, choices=ValidationOutcome.choices, default=ValidationOutcome.PENDING
    )
    validation_errors = models.JSONField(default=list, blank=True)
    ack_999 = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "ingest batches"
        indexes = [
            # Batch list in the admin, newest first.
            models.Index(fields=["-started_at"], name="ingestbatch_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class Claim(PlainPkPartitionedModel):
    """A professional claim: loop 2300 (CLM) of an 837P with its parties.

    Money is NUMERIC(12,2) dollars (``Decimal``). ``diagnosis_codes`` keeps the HI codes as sent (no dot), in
    order, principal (ABK/BK) first. ``code_check_errors`` lists failed ICD-10-CM / NPI checks; a failed check is
    recorded, it never stops the load.
    """

    # Claims and their lines are created, repaired and retired month by month together (ops.platform).
    partition_group = "claims"

    id = models.BigAutoField(primary_key=True)
    service_date_from = models.DateField()
    service_date_to = models.DateField()
    claim_number = models.CharField(max_length=38)  # CLM01, patient control number (max 38 per the IG)
    batch = models.ForeignKey(
        IngestBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    # FK indexes are switched off where a declared composite index leads with the same column.
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    health_plan = models.ForeignKey(
        "members.HealthPlan", on_delete=models.PROTECT, related_name="claims", db_index=False
    )
    billing_provider = models.ForeignKey(
        "providers.Provider", on_delete=models.PROTECT, related_name="billed_claims", db_index=False
    )
    # 2310B; null when the billing provider rendered the service (the IG omits the loop then).
    rendering_provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="rendered_claims"
    )
    place_of_service = models.CharField(max_length=2)  # CLM05-1, CMS place of service code
    frequency_code = models.CharField(
        max_length=1, choices=FrequencyCode.choices, default=FrequencyCode.ORIGINAL
    )
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.RECEIVED)
    denial_reason_code = models.CharField(max_length=5, blank=True)  # CARC, required when denied
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    total_charge = models.DecimalField(max_digits=12, decimal_places=2)
    total_paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # Line totals kept on the claim (lines never change after ingest): provider and revenue aggregates then
    # read the claim table alone instead of joining ~3 lines per claim.
    line_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    total_rvus = models.DecimalField(max_digits=10, decimal_places=2, default=0, db_default=0)
    diagnosis_code_system = models.CharField(
        max_length=8, choices=DiagnosisCodeSystem.choices, default=DiagnosisCodeSystem.ICD10CM
    )
    diagnosis_codes = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    code_check_errors = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    # Payer claim control number (REF*F8) sent on replacements and voids.
    payer_claim_control_number = models.CharField(max_length=50, blank=True)
    # A duplicate, replacement or void points at the claim it refers to. The database enforces the composite
    # foreign key (related_claim_id, related_service_date_from) -> claim (id, service_date_from); Django's own
    # FK constraint would need id alone to be unique, which a partitioned table cannot declare.
    related_claim = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    related_service_date_from = models.DateField(null=True, blank=True)
    relation = models.CharField(max_length=12, choices=ClaimRelation.choices, blank=True)
    # Adjudication (claims.services.adjudication). Database defaults too: ingest and the synthetic data write
    # claims by COPY with explicit columns, so a column they leave out must still get its default.
    allowed = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)  # dollars
    patient_responsibility = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)
    # Why the claim waits for an examiner (claims.adjudication.edits.PendReason); blank when not pended.
    pend_reason = models.CharField(max_length=20, blank=True, default="", db_default="")
    # The examiner working the claim (the work queue's "assign to me"); no FK constraint into auth, so a
    # partitioned table of millions of rows never locks auth_user rows.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # The adjudication edits that fired (claims.adjudication.edits ids), in the order they fired.
    edits = ArrayField(models.CharField(max_length=40), default=list, db_default=[], blank=True)
    # Received -> final decision, milliseconds; null until decided.
    processing_ms = models.BigIntegerField(null=True, blank=True)
    # The 835 the claim was paid (or denied) in; null until remitted. A claim is remitted once.
    remittance = models.ForeignKey(
        "Remittance",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="claims_paid",
    )
    # The 835 that took this claim's payment back (005010X221A1 CLP02 = 22 reversal) after a later claim
    # replaced or voided it once remitted; null until then. Sent once (claims.services.remittance).
    reversal_remittance = models.ForeignKey(
        "Remittance",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="claims_reversed",
    )

    class PartitioningMeta:
        method = PostgresPartitioningMethod.RANGE
        key = ["service_date_from"]

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=ClaimStatus.DENIED) | ~models.Q(denial_reason_code=""),
                name="claim_denied_has_carc",
            ),
            models.CheckConstraint(
                condition=models.Q(service_date_to__gte=models.F("service_date_from")),
                name="claim_dates_ordered",
            ),
            models.CheckConstraint(condition=models.Q(total_charge__gte=0), name="claim_charge_nonnegative"),
            models.CheckConstraint(
                condition=models.Q(related_claim__isnull=True, relation="")
                | models.Q(related_claim__isnull=False, related_service_date_from__isnull=False)
                & ~models.Q(relation=""),
                name="claim_relation_complete",
            ),
        ]
        indexes = [
            # Work queue: open claims oldest first ("WHERE status IN (open) ORDER BY received_at LIMIT 50").
            # Partial, so it holds only the small open fraction of the table.
            models.Index(
                fields=["received_at", "id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="claim_work_queue_idx",
            ),
            # Work queue filtered by assignee ("me", "unassigned", an examiner) and by pend reason, oldest first.
            # claim_work_queue_idx would read every pended claim's row to find one examiner's (measured at 300k
            # claims, 9k pended: 7,675 buffers and 16-200 ms against 309 buffers and 2 ms; README "Examiner work").
            models.Index(
                fields=["assignee", "received_at", "id"],
                condition=models.Q(status=ClaimStatus.PENDED),
                name="claim_pended_assignee_idx",
            ),
            models.Index(
                fields=["pend_reason", "received_at", "id"],
                condition=models.Q(status=ClaimStatus.PENDED),
                name="claim_pended_reason_idx",
            ),
            # Admin changelist default order (newest received first) across all claims.
            models.Index(fields=["-received_at", "-id"], name="claim_received_idx"),
            # Admin status filter, newest first: a rare status (denied, voided) would otherwise walk
            # claim_received_idx over every partition (670 ms at 2M claims).
            models.Index(fields=["status", "-received_at", "-id"], name="claim_status_received_idx"),
            # A member's claim history for a date range, covering the columns the history list shows so it
            # runs as an index-only scan.
            models.Index(
                fields=["member", "service_date_from"],
                include=["claim_number", "status", "total_charge", "total_paid"],
                name="claim_member_history_idx",
            ),
            # "Claims with diagnosis X": diagnosis_codes @> ARRAY['E119'].
            GinIndex(fields=["diagnosis_codes"], name="claim_diagnosis_gin_idx"),
            # No index by claim number here: a lookup by number alone cannot prune, so it would probe every month
            # partition; it goes through ClaimNumber (one probe of one table) instead, and each claim insert saves
            # two index entries (ingest's COPY is bound by index maintenance; README "Ingest").
            # Provider and payer reports over a service-date range.
            models.Index(fields=["billing_provider", "service_date_from"], name="claim_billing_date_idx"),
            models.Index(fields=["health_plan", "service_date_from"], name="claim_plan_date_idx"),
            models.Index(fields=["batch"], name="claim_batch_idx"),
            # Real-time processing metrics: claims processed in the last 24 hours (analytics_processing_realtime_mv).
            models.Index(
                fields=["processed_at"],
                condition=models.Q(processed_at__isnull=False),
                name="claim_processed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_number} ({self.service_date_from})"


class ClaimLine(PlainPkPartitionedModel):
    """A service line: loop 2400 (LX, SV1, DTP*472).

    ``service_date_from`` is the claim's partition key (so the line sits beside its claim); the line's own
    dates are ``service_date`` / ``service_date_to``. ``diagnosis_pointers`` are 1-based positions into the
    claim's ``diagnosis_codes`` (SV1-07).
    """

    # Claims and their lines are created, repaired and retired month by month together (ops.platform).
    partition_group = "claims"
    # A line references its claim in the same month partition (migration ops 0010: plain-table cost per row).
    month_foreign_keys = (
        MonthForeignKey(
            ("claim_id", "service_date_from"), "claims_claim", ("id", "service_date_from"), "claim_fk"
        ),
    )

    id = models.BigAutoField(primary_key=True)
    service_date_from = models.DateField()
    claim = models.ForeignKey(
        Claim, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="lines"
    )
    line_number = models.PositiveSmallIntegerField()  # LX01
    procedure_qualifier = models.CharField(max_length=2, default="HC")  # SV1-01-1: HC = HCPCS/CPT
    procedure_code = models.CharField(max_length=48)  # SV1-01-2, kept as sent
    modifiers = ArrayField(models.CharField(max_length=2), default=list, blank=True)  # SV1-01-3..6
    charge = models.DecimalField(max_digits=12, decimal_places=2)  # SV1-02
    unit_basis = models.CharField(max_length=2, default="UN")  # SV1-03: UN units, MJ minutes
    units = models.DecimalField(max_digits=9, decimal_places=3)  # SV1-04
    place_of_service = models.CharField(max_length=2, blank=True)  # SV1-05, when it differs from CLM05-1
    diagnosis_pointers = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # Total relative value units of the line (claims.fee_schedule: RVU x units; 0 without an RVU).
    rvus = models.DecimalField(max_digits=8, decimal_places=2, default=0, db_default=0)
    service_date = models.DateField()
    service_date_to = models.DateField()
    # Adjudication of the line: approved / denied (claims.lifecycle.ClaimStatus values), blank until decided.
    allowed = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0)  # dollars
    decision = models.CharField(max_length=12, blank=True, default="", db_default="")

    class PartitioningMeta:
        method = PostgresPartitioningMethod.RANGE
        key = ["service_date_from"]

    class Meta:
        ordering = ["claim_id", "line_number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(charge__gte=0), name="claimline_charge_nonnegative"),
            models.CheckConstraint(
                condition=models.Q(service_date_to__gte=models.F("service_date")),
                name="claimline_dates_ordered",
            ),
        ]
        indexes = [
            # Lines of a claim (claim detail page, inline): equality on claim, ordered by line number.
            models.Index(fields=["claim", "line_number"], name="claimline_claim_idx"),
            # Procedure utilisation reports: HCPCS/CPT code over a date range.
            models.Index(fields=["procedure_code", "service_date"], name="claimline_procedure_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}/{self.line_number} {self.procedure_code}"


class ClaimStatusHistory(models.Model):
    """One status transition of a claim (``from_status`` empty for the first), for status-flow analysis.

    Written only by ``claims.services.lifecycle`` (the one writer of claim status).

    No database foreign key to the claim, on purpose: PostgreSQL checks a foreign key into a partitioned table
    row by row with a query on the partitioned parent, and at 100,000 claims a file that check cost as much as
    the whole rest of the load (measured, see README "Ingest"). History rows are written only by the services
    that change the claim, in the same transaction, so an orphan cannot arise from them; the claim's lines,
    which are the claim's content, keep their composite foreign key.
    """

    claim = models.ForeignKey(
        Claim, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="status_history"
    )
    claim_service_date_from = models.DateField()
    from_status = models.CharField(max_length=12, choices=ClaimStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    changed_at = models.DateTimeField()
    # Indexed by the partial statushistory_changed_by_idx, not the default foreign-key index: most transitions
    # (ingest, adjudication) have no person, and an index entry per such row is paid by every loaded claim.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Who or what made the change when it was not a person (claims.lifecycle.StatusSource).
    source = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["claim_id", "changed_at", "id"]
        verbose_name_plural = "claim status history"
        indexes = [
            # History of one claim (claim page, read-only inline).
            models.Index(fields=["claim", "changed_at"], name="statushistory_claim_idx"),
            # Status-flow analysis over a period: transitions counted by (from, to) per month.
            models.Index(
                fields=["changed_at"], include=["from_status", "to_status"], name="statushistory_at_idx"
            ),
            # A person's transitions (deleting a user sets them NULL: UPDATE .. WHERE changed_by_id IN (..)).
            models.Index(
                fields=["changed_by"],
                condition=models.Q(changed_by__isnull=False),
                name="statushistory_changed_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_status or '-'} -> {self.to_status}"


class ClaimAdjustment(models.Model):
    """One claim adjustment (an 835 CAS entry) of a claim or of one of its lines: group code, CARC, RARC, amount.

    ``line_number`` 0 is the claim level (2100 CAS), otherwise the LX01 of the line (2110 CAS). Written only by
    the adjudication service, in the transaction that decides the claim, so that per line and per claim
    charge = paid + the sum of the adjustments. No database foreign key to the partitioned claim table, for
    the reason given on ``ClaimStatusHistory``.
    """

    claim = models.ForeignKey(
        Claim, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="adjustments"
    )
    claim_service_date_from = models.DateField()
    line_number = models.PositiveSmallIntegerField()
    group_code = models.CharField(max_length=2)  # CAS01: CO / PR / OA
    carc = models.CharField(max_length=5)  # CAS02
    rarc = models.CharField(max_length=5, blank=True)  # LQ*HE (2110) or MOA/MIA remark
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # CAS03, dollars

    class Meta:
        ordering = ["claim_id", "line_number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group_code__in=["CO", "PR", "OA", "PI"]), name="adjustment_group_code"
            ),
        ]
        indexes = [
            # The adjustments of one claim (claim page, 835 writer), by line.
            models.Index(fields=["claim", "line_number"], name="adjustment_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}/{self.line_number} {self.group_code}-{self.carc} {self.amount}"


class AdjudicationRun(models.Model):
    """One run of the adjudication service: what it decided, how long it took (ms), and how it ended.

    A failed run leaves its claims "validated" (its transaction rolled back) and says why in ``error``
    (exception type and message, never claim contents); the Celery task retries it.
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    batch = models.ForeignKey(
        IngestBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    trigger = models.CharField(max_length=40, blank=True)  # "command", "task:batch 12", "examiner"
    dry_run = models.BooleanField(default=False)
    claims = models.IntegerField(default=0)
    approved = models.IntegerField(default=0)
    denied = models.IntegerField(default=0)
    pended = models.IntegerField(default=0)
    duration_ms = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    error = models.TextField(blank=True)
    # Edit id -> how many claims it fired on in this run.
    edits = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The admin list and "last runs", newest first.
            models.Index(fields=["-started_at"], name="adjudicationrun_started_idx"),
        ]

    def __str__(self) -> str:
        return f"adjudication {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.claims} claims"


class RemittanceRun(models.Model):
    """One payment cycle of 835s (``generate_835``): how many payees and claims, the money, how it ended."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    payment_date = models.DateField()  # BPR16
    payees = models.IntegerField(default=0)
    claims = models.IntegerField(default=0)
    total_paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)  # dollars, sum of BPR02
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"835 cycle {self.payment_date} ({self.payees} payees, {self.claims} claims)"


class Remittance(models.Model):
    """One 005010X221A1 835 file: one payee (billing provider), one cycle; its text is kept to download again.

    ``trace_number`` is TRN02, the reassociation trace the payee matches the payment with (unique).
    """

    run = models.ForeignKey(RemittanceRun, on_delete=models.PROTECT, related_name="remittances")
    payee = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="+")
    # The payer (plan) of the file; null on files written before it was recorded.
    health_plan = models.ForeignKey(
        "members.HealthPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The PLB "FB" forwarding balance of the file, dollars (PLB04): negative = a balance the payee owes,
    # carried forward; positive = that balance withheld from this payment. The payee's balance with the plan is
    # minus the sum over its files (claims.services.remittance).
    forward_balance = models.DecimalField(max_digits=14, decimal_places=2, default=0, db_default=0)
    trace_number = models.CharField(max_length=50, unique=True)
    file_name = models.CharField(max_length=120)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.IntegerField()
    claims = models.IntegerField()
    paid = models.DecimalField(max_digits=14, decimal_places=2)  # BPR02, dollars
    content = models.TextField()

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The 835s of one payee, newest first (provider inquiries, the admin filter).
            models.Index(fields=["payee", "-id"], name="remittance_payee_idx"),
        ]

    def __str__(self) -> str:
        return self.file_name


class WorkQueueClaim(Claim):
    """The examiners' work queue: the same claims table, listed as the pended claims oldest first (claims.admin).

    A proxy, so the queue has its own admin page and permissions without a table of its own. The custom
    permissions live here: ``claims.examine_claim`` (assign, approve, deny, pend, re-adjudicate from the queue)
    and ``claims.override_decision`` (a supervisor turning an approval or a denial over, with a reason).
    """

    class Meta:
        proxy = True
        verbose_name = "work queue"
        verbose_name_plural = "work queue"
        permissions = [
            ("examine_claim", "Can assign, approve, deny and pend claims in the work queue"),
            ("override_decision", "Can override a claim decision (approved <-> denied)"),
        ]


class ClaimNumber(models.Model):
    """Where each claim is, by its number: (billing provider, CLM01 claim number) -> (claim id, month of service).

    One small unpartitioned table, so a lookup by claim number is one index probe whatever the number of month
    partitions (120 by default retention): the claims table itself can be searched by number only by probing every
    partition. Ingest writes one row per claim it loads (``claims.services.ingest``), the demo-data generator one per
    claim it makes; the row never changes (claim number, billing provider and service_date_from are never updated).
    A retired month's rows are deleted with its partitions (``claims.services.retention``, from ``ops.partitions``).
    """

    claim_id = models.BigIntegerField(primary_key=True)
    service_date_from = models.DateField()
    billing_provider_id = models.BigIntegerField()
    claim_number = models.CharField(max_length=38)

    class Meta:
        indexes = [
            # Duplicate, replacement and void matching at ingest (claims_on_file).
            models.Index(fields=["billing_provider_id", "claim_number"], name="claimnumber_billing_idx"),
            # The admin's search by claim number alone, any case (claims.selectors.claim_keys_for_number).
            models.Index(Upper("claim_number"), name="claimnumber_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.claim_number


class ClaimMonthCount(models.Model):
    """How many claims each month holds in each state, kept as deltas: the months a list or a job must read.

    A claim's month is its partition (``service_date_from``'s first day). ``state`` is a claim status
    (``ClaimStatus``), or ``unremitted`` (approved or denied, not yet in an 835) or ``unreversed`` (replaced or
    voided after it was remitted, its reversal not sent yet): ``claims.services.lifecycle.STATE_*``. The count of
    (state, month) is the SUM of its rows; the months holding a state are those whose sum is above 0
    (``claims.services.lifecycle.months_holding``). The work queue, the status filter, adjudication's take and the
    835 cycle give those months to PostgreSQL as a literal list, so it prunes to them when it plans, where a
    filter on the status alone is planned and locked over every month (bench/results/2026-12-01-partitions-120.md).

    Written only by ``claims.services.lifecycle`` (the one writer of claim status), in the transaction that moves
    the claims: each writer INSERTs its own delta rows and never updates one, so two writers never wait on each
    other nor lose one another's counts; ``month_counts_compact`` folds the rows into one per (state, month)
    (hourly: config/beat.py).
    """

    id = models.BigAutoField(primary_key=True)
    state = models.CharField(max_length=20)
    month = models.DateField()
    claims = models.BigIntegerField()

    # No index: folded hourly (claims.tasks.month_counts_compact) the table is a few hundred rows, states times
    # months kept, which a sequential scan reads in well under a millisecond.

    def __str__(self) -> str:
        return f"{self.state} {self.month:%Y-%m}: {self.claims:+d}"
