"""Operations: permissions for the database-health pages (reports, advisor, EXPLAIN, activity).

Maintenance: ``TaskRun`` (one row per job run), ``PartitionArchive`` (partitions archived then dropped) and
``AuditEvent`` (the audit trail; defined in the floor, ``ops.platform.models``).
"""

from __future__ import annotations

from django.db import models

from ops.platform.models import AuditAction, AuditEvent, RunOutcome

# The floor owns these; re-exported so ``ops.models`` keeps naming every ops model and the run-log vocabulary.
__all__ = [
    "AuditAction",
    "AuditEvent",
    "OpsAccess",
    "PartitionArchive",
    "RunOutcome",
    "TaskOutcome",
    "TaskRun",
]


class OpsAccess(models.Model):
    """Holds the ops permissions only; it has no table (``managed = False``) and is never queried.

    * ``view_ops_reports``: staff who may open the ops pages (slow queries, indexes, tables, advisor, activity).
    * ``reset_pg_stat_statements``: may reset pg_stat_statements (separate, with confirmation).
    * ``explain_query`` / ``cancel_backend`` are reserved to superusers by the views themselves.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_ops_reports", "Can view database health reports"),
            ("reset_pg_stat_statements", "Can reset pg_stat_statements"),
        ]

    def __str__(self) -> str:
        return "ops access"


# -- maintenance jobs ------------------------------------------------------------------------------------------
# A maintenance job's outcome is the floor's run-log vocabulary, shared with the analytics refresh log.
TaskOutcome = RunOutcome


class TaskRun(models.Model):
    """One run of one maintenance job (ops.jobs.job_run): when, how long (ms), rows affected, how it ended.

    ``details`` is the job's own summary (partitions created, rows deleted per table, indexes rebuilt, ...):
    table and partition names and counts only, never row contents.
    """

    job = models.CharField(max_length=60)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    rows_affected = models.BigIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    error = models.TextField(blank=True)
    dry_run = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The admin list, newest first; also the retention cleanup's "started_at < cutoff".
            models.Index(fields=["-started_at"], name="taskrun_started_idx"),
            # "Last runs of job X" (admin filter by job).
            models.Index(fields=["job", "-started_at"], name="taskrun_job_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class PartitionArchive(models.Model):
    """A monthly partition written to a gzip file (COPY text format) and verified before it was dropped.

    ``bytes`` is the compressed file size; ``sha256`` the hex digest of the compressed file; ``columns`` the
    column names in file order (restore with ``COPY <table> (<columns>) FROM``).
    """

    parent_table = models.CharField(max_length=63)
    partition_table = models.CharField(max_length=63)
    range_from = models.CharField(max_length=40)
    range_to = models.CharField(max_length=40)
    rows = models.BigIntegerField()
    bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=500)
    columns = models.JSONField(default=list)
    archived_at = models.DateTimeField()

    class Meta:
        ordering = ["-archived_at"]
        indexes = [
            # Archives of one table (admin filter), newest first.
            models.Index(fields=["parent_table", "-archived_at"], name="partarchive_table_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.partition_table} ({self.rows} rows)"
