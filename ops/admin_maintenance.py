"""Read-only admin pages of the maintenance records: task runs, partition archives, audit events.

Imported from ``OpsConfig.ready`` (ops/admin.py belongs to the database-health pages). Nothing here can be
added, changed or deleted: these are records of what happened.
"""

from __future__ import annotations

from django.contrib import admin

from ops.models import AuditEvent, PartitionArchive, TaskRun
from ops.platform.paginators import ReadOnlyAdmin


@admin.register(TaskRun)
class TaskRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "started_at", "duration_ms", "rows_affected", "outcome", "dry_run")
    list_filter = ("outcome", "dry_run", "job")
    ordering = ("-started_at",)  # taskrun_started_idx
    sortable_by = ("started_at",)


@admin.register(PartitionArchive)
class PartitionArchiveAdmin(ReadOnlyAdmin):
    list_display = ("partition_table", "range_from", "range_to", "rows", "bytes", "archived_at")
    list_filter = ("parent_table",)
    ordering = ("-archived_at",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "username",
        "action",
        "outcome",
        "object_type",
        "object_id",
        "ip_address",
        "request_id",
    )
    list_filter = ("action", "outcome", "object_type")
    ordering = ("-occurred_at",)
    sortable_by = ("occurred_at",)
