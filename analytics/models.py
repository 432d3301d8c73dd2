"""Analytics: materialized views over the claim tables, incremental day-grain summary tables, refresh log.

Every page reads these, never the claim tables. Views are managed by django-pgviews-redux (created on
``migrate``); each has a unique index so ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` can run while pages read
(PostgreSQL docs, "REFRESH MATERIALIZED VIEW"). Refreshing, locking and freshness are ours:
``analytics.services.refresh``.
"""

from __future__ import annotations

from django.db import models
from django_pgviews import view as pg

from analytics import sql
from ops.platform.models import RunOutcome


class Icd10Code(models.Model):
    """ICD-10-CM code set (simple-icd-10-cm): every chapter, block, category and code, without the dot.

    ``chapter`` is the chapter number ("4"), ``block`` the top-level block under it ("E08-E13").
    """

    code = models.CharField(max_length=8, primary_key=True)
    description = models.CharField(max_length=400)
    chapter = models.CharField(max_length=4)
    chapter_title = models.CharField(max_length=300)
    block = models.CharField(max_length=10)
    block_title = models.CharField(max_length=300)
    billable = models.BooleanField()

    class Meta:
        verbose_name = "ICD-10-CM code"

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


# A refresh's outcome is the floor's run-log vocabulary, shared with the maintenance jobs (ops.TaskRun).
RefreshOutcome = RunOutcome


class RefreshKind(models.TextChoices):
    FULL = "full", "Full refresh (REFRESH MATERIALIZED VIEW CONCURRENTLY)"
    INCREMENTAL = "incremental", "Incremental (summary days touched by a batch)"


class RefreshLog(models.Model):
    """One refresh of one view or summary table: when, how long (ms), how many rows, and how it ended."""

    view = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=RefreshKind.choices, default=RefreshKind.FULL)
    trigger = models.CharField(max_length=40, blank=True)  # "beat:realtime", "ingest:batch 12", "manual"
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RefreshOutcome.choices, default=RefreshOutcome.RUNNING)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        permissions = [
            ("view_dashboards", "Can view analytics pages"),
            # CMS cell size suppression: analysts see no figure of fewer than 11 patients; this shows them.
            ("view_small_cells", "Can see analytics cells of fewer than 11 patients"),
        ]
        indexes = [
            # Freshness: the last successful refresh of each view.
            models.Index(
                fields=["view", "-finished_at"],
                condition=models.Q(outcome="success"),
                name="refreshlog_fresh_idx",
            ),
            # The admin list, newest first.
            models.Index(fields=["-started_at"], name="refreshlog_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.view} {self.kind} {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


# -- materialized views ----------------------------------------------------------------------------------------
class ClaimsDailySummary(pg.ReadOnlyMaterializedView):
    """How many claims per service day, billed and paid dollars, and where they stand (all plans)."""

    sql = sql.CLAIMS_DAILY.format(day_filter=sql.ALL_DAYS)
    concurrent_index = "day"

    day = models.DateField(primary_key=True)
    claims = models.IntegerField()
    members = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    approved = models.IntegerField()
    denied = models.IntegerField()
    pended = models.IntegerField()
    open = models.IntegerField()

    class Meta:
        managed = False
        db_table = "analytics_claims_daily_mv"


class PlanDaily(pg.ReadOnlyMaterializedView):
    """Per payer and service day: volume, members, dollars, outcomes and processing time (for averages)."""

    sql = sql.PLAN_DAILY.format(day_filter=sql.ALL_DAYS)
    concurrent_index = "day, health_plan_id"

    day = models.DateField(primary_key=True)
    health_plan = models.ForeignKey("members.HealthPlan", on_delete=models.DO_NOTHING, db_constraint=False)
    claims = models.IntegerField()
    members = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    approved = models.IntegerField()
    denied = models.IntegerField()
    pended = models.IntegerField()
    processed = models.IntegerField()
    processing_seconds = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        managed = False
        db_table = "analytics_plan_daily_mv"


class ProviderDaily(pg.ReadOnlyMaterializedView):
    """Per billing provider and service day: claims, approvals, denials, dollars, lines and RVUs.

    The reference for ``ProviderDailyTotals``, which the pages read. At 1,000,000 claims it has ~770,000 rows
    (providers x days is sparse), and a concurrent refresh's diff of that many rows took 6-14 s against 2.3-2.9 s
    for a plain refresh (measured here): it is refreshed plainly, which blocks only its own readers.
    """

    sql = sql.PROVIDER_DAILY.format(day_filter=sql.ALL_DAYS)
    concurrent_index = "day, billing_provider_id"
    refresh_concurrently = False

    day = models.DateField(primary_key=True)
    billing_provider = models.ForeignKey(
        "providers.Provider", on_delete=models.DO_NOTHING, db_constraint=False
    )
    claims = models.IntegerField()
    approved = models.IntegerField()
    denied = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    lines = models.IntegerField()
    rvus = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        managed = False
        db_table = "analytics_provider_daily_mv"


class RevenueMonthly(pg.ReadOnlyMaterializedView):
    """Revenue by service month and payer: billed, approved and denied billed, paid, RVUs."""

    sql = sql.REVENUE_MONTHLY
    concurrent_index = "month, health_plan_id"

    month = models.DateField(primary_key=True)
    health_plan = models.ForeignKey("members.HealthPlan", on_delete=models.DO_NOTHING, db_constraint=False)
    claims = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    approved_billed = models.DecimalField(max_digits=16, decimal_places=2)
    denied_billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    rvus = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        managed = False
        db_table = "analytics_revenue_monthly_mv"


class DiagnosisMonthly(pg.ReadOnlyMaterializedView):
    """ICD-10-CM chapter -> block -> code by service month and payer: distinct patients, claims, charges.

    A row with ``block == ""`` is a chapter total, with ``code == ""`` a block total; patients are distinct at
    each level within a month (they cannot be summed across months or codes).
    """

    sql = sql.DIAGNOSIS_MONTHLY
    concurrent_index = "month, health_plan_id, chapter, block, code"

    month = models.DateField(primary_key=True)
    health_plan = models.ForeignKey("members.HealthPlan", on_delete=models.DO_NOTHING, db_constraint=False)
    chapter = models.CharField(max_length=4)
    block = models.CharField(max_length=10)
    code = models.CharField(max_length=8)
    patients = models.IntegerField()
    claims = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    average_charge = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        managed = False
        db_table = "analytics_diagnosis_monthly_mv"


class FailedClaimsMonthly(pg.ReadOnlyMaterializedView):
    """Why claims fail, by month: denials by CARC, code-check problems, rejected files (kind, reason)."""

    sql = sql.FAILED_MONTHLY
    concurrent_index = "month, health_plan_id, kind, reason"

    month = models.DateField(primary_key=True)
    health_plan_id = models.BigIntegerField()  # 0 for file-level rows (a rejected file has no payer)
    kind = models.CharField(max_length=30)
    reason = models.CharField(max_length=60)
    claims = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        managed = False
        db_table = "analytics_failed_monthly_mv"


class ProcessingRealtime(pg.ReadOnlyMaterializedView):
    """Per minute over the last 24 hours: claims processed, outcomes, mean and p95 processing time (s)."""

    sql = sql.PROCESSING_REALTIME
    concurrent_index = "minute"

    minute = models.DateTimeField(primary_key=True)
    processed = models.IntegerField()
    approved = models.IntegerField()
    denied = models.IntegerField()
    pended = models.IntegerField()
    mean_seconds = models.DecimalField(max_digits=14, decimal_places=3)
    p95_seconds = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        managed = False
        db_table = "analytics_processing_realtime_mv"


class QueueDepthDaily(pg.ReadOnlyMaterializedView):
    """Work-queue depth (claims received, validated or pended) at the end of each day, with in- and outflow."""

    sql = sql.QUEUE_DEPTH_DAILY
    concurrent_index = "day"

    day = models.DateField(primary_key=True)
    entered = models.IntegerField()
    left_queue = models.IntegerField()
    depth = models.IntegerField()

    class Meta:
        managed = False
        db_table = "analytics_queue_depth_daily_mv"


class StatusFlowMonthly(pg.ReadOnlyMaterializedView):
    """Claim status transitions (from -> to) per month of the change, for the Sankey diagram."""

    sql = sql.STATUS_FLOW_MONTHLY
    concurrent_index = "month, from_status, to_status"

    month = models.DateField(primary_key=True)
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    transitions = models.IntegerField()

    class Meta:
        managed = False
        db_table = "analytics_status_flow_monthly_mv"


# -- incremental summary tables (same columns as their day-grain views) ---------------------------------------
class ClaimsDailyTotals(models.Model):
    """Incrementally maintained twin of ``ClaimsDailySummary``: only the service days a batch touched are
    recomputed (``analytics.services.summaries``)."""

    day = models.DateField(primary_key=True)
    claims = models.IntegerField()
    members = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    approved = models.IntegerField()
    denied = models.IntegerField()
    pended = models.IntegerField()
    open = models.IntegerField()

    class Meta:
        verbose_name_plural = "claims daily totals"

    def __str__(self) -> str:
        return f"{self.day}: {self.claims} claims"


class PlanDailyTotals(models.Model):
    """Incrementally maintained twin of ``PlanDaily``."""

    day = models.DateField()
    health_plan = models.ForeignKey("members.HealthPlan", on_delete=models.CASCADE, related_name="+")
    claims = models.IntegerField()
    members = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    approved = models.IntegerField()
    denied = models.IntegerField()
    pended = models.IntegerField()
    processed = models.IntegerField()
    processing_seconds = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        verbose_name_plural = "plan daily totals"
        constraints = [models.UniqueConstraint(fields=["day", "health_plan"], name="plandailytotals_uniq")]

    def __str__(self) -> str:
        return f"{self.day} plan {self.health_plan_id}: {self.claims} claims"


class _ProviderSums(models.Model):
    """A billing provider's sums over a period (the subclass says which): claims, approvals, denials, dollars
    (NUMERIC), lines and RVUs, the columns of ``analytics.sql.PROVIDER_DAILY``."""

    # No index of its own (db_index=False): the day table's providerdailytotals_prov_idx leads with the provider,
    # every index is written for each of a batch's ~9,000 (day, provider) rows at 1M claims, and only deleting a
    # provider reads the month table by provider alone (rare).
    billing_provider = models.ForeignKey(
        "providers.Provider", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    claims = models.IntegerField()
    approved = models.IntegerField()
    denied = models.IntegerField()
    billed = models.DecimalField(max_digits=16, decimal_places=2)
    paid = models.DecimalField(max_digits=16, decimal_places=2)
    lines = models.IntegerField()
    rvus = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        abstract = True


class ProviderDailyTotals(_ProviderSums):
    """Incrementally maintained twin of ``ProviderDaily``."""

    day = models.DateField()

    class Meta:
        verbose_name_plural = "provider daily totals"
        constraints = [
            models.UniqueConstraint(fields=["day", "billing_provider"], name="providerdailytotals_uniq")
        ]
        indexes = [
            # One provider's days: the month-grain summary sums a (month, provider) pair's day rows from this
            # index alone (INCLUDE: an index-only scan, where reading the rows themselves cost ~6 random heap
            # pages per pair; sql.PROVIDER_MONTHLY_PAIRS).
            models.Index(
                fields=["billing_provider", "day"],
                include=["claims", "approved", "denied", "billed", "paid", "lines", "rvus"],
                name="providerdailytotals_prov_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} provider {self.billing_provider_id}: {self.claims} claims"


class ProviderMonthlyTotals(_ProviderSums):
    """Per billing provider and service month (``month`` is its first day): the month's rows of
    ``ProviderDailyTotals`` summed, the table the provider performance page reads.

    Maintained with the day-grain summaries (``analytics.services.summaries``, after ``ProviderDailyTotals`` in
    the same transaction): a batch recomputes the (month, billing provider) pairs it touched from
    ``analytics.sql.PROVIDER_MONTHLY_PAIRS``, the nightly rebuild every pair (``sql.PROVIDER_MONTHLY``). Every
    column is a plain sum (no distinct counts), so the sums of a month's day rows are exact. Money in dollars,
    NUMERIC like the day rows.
    """

    month = models.DateField()

    class Meta:
        verbose_name_plural = "provider monthly totals"
        constraints = [
            # One row per (month, provider), and the index of the provider page: a month's providers in
            # provider-id order with every figure the page shows in the index (INCLUDE), so a page is an
            # index-only scan of one month, merge-joined to the providers' primary key.
            models.UniqueConstraint(
                fields=["month", "billing_provider"],
                include=["claims", "approved", "denied", "billed", "paid", "rvus"],
                name="providermonthlytotals_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} provider {self.billing_provider_id}: {self.claims} claims"
