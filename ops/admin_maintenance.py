"""Read-only admin pages of the maintenance records: task runs, partition archives, audit events.

Imported from ``OpsConfig.ready`` (ops/admin.py belongs to the database-health pages). Nothing here can be
added, changed or deleted: these are records of what happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from ops.disclosures import UnknownMember, member_disclosures, member_id_for
from ops.models import AuditEvent, PartitionArchive, TaskRun
from ops.platform.audit import audit_record
from ops.platform.models import AuditAction
from ops.platform.paginators import ReadOnlyAdmin


class DisclosuresForm(forms.Form):
    member = forms.CharField(max_length=40, help_text="Member id or member number (exact).")
    since = forms.DateField(help_text="First day (UTC).", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        help_text="Last day (UTC), inclusive.", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("since") and cleaned.get("until") and cleaned["until"] < cleaned["since"]:
            raise forms.ValidationError("The last day is before the first.")
        if cleaned.get("member"):
            try:
                cleaned["member_id"] = member_id_for(cleaned["member"])
            except UnknownMember as error:
                self.add_error("member", str(error))
        return cleaned


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
    """The audit trail, newest first, and the accounting of disclosures for one member (``disclosures_view``)."""

    change_list_template = "admin/ops/auditevent/change_list.html"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "disclosures/",
                self.admin_site.admin_view(self.disclosures_view),
                name="ops_auditevent_disclosures",
            ),
            *super().get_urls(),
        ]

    def disclosures_view(self, request: HttpRequest) -> HttpResponse:
        """Who saw or changed one member's PHI between two days (ops/disclosures.py), for users who may view
        the audit trail. The form is POSTed, so the member number stays out of URLs and access logs; each
        report is itself an audit event."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.now().date()
        form = DisclosuresForm(
            request.POST if request.method == "POST" else None,
            initial={"since": today.replace(year=today.year - 6), "until": today},
        )
        rows = None
        if request.method == "POST" and form.is_valid():
            member_id = form.cleaned_data["member_id"]
            since = dt.datetime.combine(form.cleaned_data["since"], dt.time.min, tzinfo=dt.UTC)
            until = dt.datetime.combine(
                form.cleaned_data["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC
            )
            rows = member_disclosures(member_id, since=since, until=until)
            audit_record(
                request=request, action=AuditAction.VIEW, object_type="ops.disclosures", object_id=member_id
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Accounting of disclosures",
            "form": form,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/ops/auditevent/disclosures.html", context)

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
