"""Admin for the analytics refresh log, with each view's freshness on top of the list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from analytics.models import RefreshLog
from analytics.services.refresh import ALL_VIEWS, last_success, view_name
from analytics.services.summaries import SUMMARIES


@admin.register(RefreshLog)
class RefreshLogAdmin(admin.ModelAdmin):
    list_display = ("view", "kind", "trigger", "started_at", "duration_ms", "rows", "outcome")
    list_filter = ("outcome", "kind", "view")
    search_fields = ("=view", "trigger")
    date_hierarchy = None
    change_list_template = "admin/analytics/refreshlog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        finished = last_success()
        now = timezone.now()
        names = [view_name(v) for v in ALL_VIEWS] + [s.table for s in SUMMARIES]
        freshness = [
            {
                "view": name,
                "finished_at": finished.get(name),
                "age_minutes": round((now - finished[name]).total_seconds() / 60, 1)
                if name in finished
                else None,
            }
            for name in names
        ]
        return super().changelist_view(request, {**(extra_context or {}), "freshness": freshness})  # type: ignore[return-value]
