"""Ops pages in the admin: the OpsAccess "changelist" is the ops index, the reports are views under it.

OpsAccess has no table (ops/models.py); its admin only carries the URLs. Who sees what:

* staff with ``ops.view_ops_reports``: slow queries, indexes, tables and partitions, advisor, live activity;
* ``ops.reset_pg_stat_statements`` in addition: reset pg_stat_statements (POST after a confirmation page);
* superusers only: EXPLAIN ANALYZE of a pasted query and cancelling a backend (POST, CSRF-protected).

Anyone else gets 403. Every view is thin: it reads its parameters and calls one function of ops/pg_stats.py,
ops/advisor.py, ops/explain.py or ops/activity.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from members.admin import PII_PERMISSION
from ops import activity, advisor, explain, pg_stats
from ops.models import OpsAccess
from ops.platform.paginators import TypedModelAdmin
from ops.platform.replica import reading_alias

VIEW_PERMISSION = "ops.view_ops_reports"
RESET_PERMISSION = "ops.reset_pg_stat_statements"

PAGES = [
    ("slow_queries", "Slow queries"),
    ("indexes", "Indexes"),
    ("tables", "Tables and partitions"),
    ("advisor", "Index advisor"),
    ("explain", "EXPLAIN a query"),
    ("activity", "Live activity"),
]


def _int(request: HttpRequest, name: str, default: int, *, low: int = 0, high: int = 10_000) -> int:
    try:
        return min(max(int(request.GET.get(name, default)), low), high)
    except ValueError:
        return default


def _float(request: HttpRequest, name: str, default: float) -> float:
    try:
        return max(float(request.GET.get(name, default)), 0.0)
    except ValueError:
        return default


@admin.register(OpsAccess)
class OpsAdmin(TypedModelAdmin[OpsAccess]):
    # --- permissions: the ops permissions stand in for the model's view/add/change/delete ones ---

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.has_perm(VIEW_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- URLs ---

    def get_urls(self) -> list[URLPattern]:
        def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(view)

        return [
            path("slow-queries/", wrap(self.slow_queries_view), name="ops_slow_queries"),
            path("slow-queries/reset/", wrap(self.reset_view), name="ops_reset_statements"),
            path("indexes/", wrap(self.indexes_view), name="ops_indexes"),
            path("tables/", wrap(self.tables_view), name="ops_tables"),
            path("advisor/", wrap(self.advisor_view), name="ops_advisor"),
            path("explain/", wrap(self.explain_view), name="ops_explain"),
            path("activity/", wrap(self.activity_view), name="ops_activity"),
            path("activity/cancel/", wrap(self.cancel_view), name="ops_cancel_backend"),
            path("", wrap(self.changelist_view), name="ops_opsaccess_changelist"),
        ]

    def _check(self, request: HttpRequest, *, permission: str | None = None, superuser: bool = False) -> None:
        if not self.has_module_permission(request):
            raise PermissionDenied
        if permission and not request.user.has_perm(permission):
            raise PermissionDenied
        if superuser and not request.user.is_superuser:
            raise PermissionDenied

    def _render(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "pages": [(reverse(f"admin:ops_{name}"), label) for name, label in PAGES],
            "ops_index_url": reverse("admin:ops_opsaccess_changelist"),
            **context,
        }
        return TemplateResponse(request, f"admin/ops/{template}", context)

    # --- pages ---

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._check(request)
        return self._render(
            request,
            "index.html",
            "Database health",
            is_superuser=request.user.is_superuser,
            cache_hit=pg_stats.database_cache_hit(),
        )

    def slow_queries_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        order = request.GET.get("order", "total")
        if order not in pg_stats.SLOW_QUERY_ORDER:
            order = "total"
        limit = _int(request, "limit", 20, low=1, high=500)
        min_calls = _int(request, "min_calls", 1, high=10**9)
        min_mean_ms = _float(request, "min_mean_ms", 0.0)
        rows: list[pg_stats.SlowQuery] = []
        unavailable = None
        try:
            rows = pg_stats.slow_queries(
                order_by=order, limit=limit, min_calls=min_calls, min_mean_ms=min_mean_ms
            )
        except pg_stats.PgStatStatementsUnavailable as error:
            unavailable = error
        return self._render(
            request,
            "slow_queries.html",
            "Slow queries (pg_stat_statements)",
            rows=rows,
            unavailable=unavailable,
            order=order,
            orders=list(pg_stats.SLOW_QUERY_ORDER),
            limit=limit,
            min_calls=min_calls,
            min_mean_ms=min_mean_ms,
            can_reset=request.user.has_perm(RESET_PERMISSION),
        )

    def reset_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request, permission=RESET_PERMISSION)
        if request.method == "POST":
            try:
                pg_stats.reset_pg_stat_statements()
            except pg_stats.PgStatStatementsUnavailable as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, "pg_stat_statements was reset.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:ops_slow_queries"))
        return self._render(request, "reset_confirm.html", "Reset pg_stat_statements?")

    def indexes_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        min_size_kb = _int(request, "min_size_kb", 1024, high=10**9)
        usage = pg_stats.index_usage()
        # Catalog only: the replica's when one is usable. Usage statistics are each server's own: the primary's.
        declared = pg_stats.check_declared_indexes(using=reading_alias(stale_ok=True))
        return self._render(
            request,
            "indexes.html",
            "Indexes",
            usage=usage,
            unused=pg_stats.unused_indexes(usage, min_size_bytes=min_size_kb * 1024),
            min_size_kb=min_size_kb,
            duplicates=pg_stats.duplicate_indexes(usage),
            invalid=pg_stats.invalid_indexes(usage),
            declared_problems=[check for check in declared if not check.ok],
            declared_count=len(declared),
        )

    def tables_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        return self._render(
            request,
            "tables.html",
            "Tables and partitions",
            tables=pg_stats.table_stats(),
            cache_hit=pg_stats.database_cache_hit(),
            partitions=pg_stats.partitions(using=reading_alias(stale_ok=True)),
            large_rows=pg_stats.LARGE_TABLE_ROWS,
        )

    def advisor_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        limit = _int(request, "limit", 10, low=1, high=50)
        return self._render(
            request, "advisor.html", "Index advisor", report=advisor.advise(limit=limit), limit=limit
        )

    def explain_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request, superuser=True)
        query = request.POST.get("query", "") if request.method == "POST" else ""
        result, refused = None, None
        if query:
            try:
                result = explain.explain_query(query)
            except explain.ExplainRefused as error:
                refused = str(error)
        return self._render(
            request, "explain.html", "EXPLAIN a query", query=query, result=result, refused=refused
        )

    def activity_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        return self._render(
            request,
            "activity.html",
            "Live activity",
            # Other sessions' statements with their literals only for users who may see PII.
            backends=activity.backends(literals=request.user.has_perm(PII_PERMISSION)),
            blocking=activity.blocking(literals=request.user.has_perm(PII_PERMISSION)),
            can_cancel=request.user.is_superuser,
        )

    def cancel_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request, superuser=True)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:ops_activity"))
        try:
            pid = int(request.POST.get("pid", ""))
        except ValueError:
            pid = 0
        if pid and activity.cancel_backend(pid):
            self.message_user(request, f"Cancel signal sent to backend {pid}.", messages.SUCCESS)
        else:
            self.message_user(request, f"No backend {pid} of this database to cancel.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:ops_activity"))
