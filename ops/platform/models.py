"""Models of the shared floor: the audit trail and the run-log outcome vocabulary.

They belong to the ``ops`` app (Django finds the app from this module's package; ``ops.models`` re-exports
them), so their tables keep their ``ops_`` names, while the floor stays importable without the rest of ``ops``.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from psqlextra.types import PostgresPartitioningMethod

from ops.platform.partitioning import PlainPkPartitionedModel


class RunOutcome(models.TextChoices):
    """How one run of a background job ended: maintenance jobs (``ops.TaskRun``) and view refreshes."""

    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    # Another run of the same job held its advisory lock: nothing was done.
    SKIPPED = "skipped", "Skipped (already running)"


class AuditAction(models.TextChoices):
    VIEW = "view", "View"
    CHANGE = "change", "Change"
    ADD = "add", "Add"
    DELETE = "delete", "Delete"
    EXPORT = "export", "Export"
    LOGIN = "login", "Sign-in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOCKOUT = "lockout", "Account locked out"
    LOGOUT = "logout", "Sign-out"
    REVEAL = "reveal", "PII revealed"


class AuditOutcome(models.TextChoices):
    """Whether the audited request got what it asked for."""

    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"  # a 403, a locked-out or failed sign-in
    FAILED = "failed", "Failed"  # the server failed (5xx)


class AuditEvent(PlainPkPartitionedModel):
    """Who viewed or changed which member, PII, claim or export, and when: ids only, never PHI.

    Range-partitioned by month on ``occurred_at`` (timestamptz; bounds at midnight UTC, STACK.md bug 2), so
    retention archives and drops whole months (ops.partitions). ``user_id`` has no database constraint and
    ``username`` is copied: an audit row must outlive the account and must never be updated.
    """

    partition_group = "audit"

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60)  # "members.member", "claims.claim", "analytics.report_csv"
    object_id = models.CharField(max_length=64, blank=True)  # blank for a list view or an export
    # Made by the server for each request (a client cannot choose it); a proxy's X-Request-ID goes beside it.
    request_id = models.CharField(max_length=64, blank=True)
    # Database defaults too: rows written by SQL (a COPY, a raw INSERT) need not name them.
    client_request_id = models.CharField(max_length=64, blank=True, db_default="")
    outcome = models.CharField(
        max_length=8,
        choices=AuditOutcome.choices,
        default=AuditOutcome.ALLOWED,
        db_default=AuditOutcome.ALLOWED,
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True, db_default="")
    # Why the user asked (a PII reveal): required there, blank for other events.
    reason = models.CharField(max_length=200, blank=True, db_default="")
    # A list's or an autocomplete's search term: PHI (a name), so kept here only, never in URLs the server logs
    # (README "Access log").
    search_term = models.CharField(max_length=200, blank=True, db_default="")
    # What the page showed beyond its object, e.g. "PII inline (masked)" on a member page.
    detail = models.CharField(max_length=100, blank=True, db_default="")

    class PartitioningMeta:
        method = PostgresPartitioningMethod.RANGE
        key = ["occurred_at"]

    class Meta:
        ordering = ["-occurred_at"]
        # Append-only (45 CFR 164.312(b) audit controls, (c)(1) integrity): a row-level trigger refuses every
        # UPDATE and DELETE, whoever sends it; PostgreSQL clones it to each monthly partition, present and
        # future. Beside it the app role has no UPDATE, DELETE or TRUNCATE grant (ops/roles.py). Retention drops
        # whole archived partitions (DROP fires no row trigger). No TRUNCATE trigger: statement triggers are not
        # cloned to partitions, and the test runner empties tables with TRUNCATE as the owner.
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]
        indexes = [
            # "Who looked at member 123": one object's history, newest first.
            models.Index(fields=["object_type", "object_id", "-occurred_at"], name="audit_object_idx"),
            # "What did user X look at": one user's trail over a period.
            models.Index(fields=["user", "-occurred_at"], name="audit_user_idx"),
            # The audit admin list, newest first, across all users and objects.
            models.Index(fields=["-occurred_at"], name="audit_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username or self.user_id} {self.action} {self.object_type} {self.object_id}"
