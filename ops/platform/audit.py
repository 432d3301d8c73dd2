"""Audit trail of who viewed or changed which member, PII, claim or export (``ops.AuditEvent``).

``audit_record`` is the one writer of audit events; ``AuditedAdminMixin`` calls it from the admin:

* change page opened (GET): "view"; list page: "view" with no object id;
* saved: "change" / "add" (Django's ``log_change`` / ``log_addition`` hooks, called after a successful save);
* deleted: "delete" (``log_deletions``: the delete page and the bulk delete action).

Exports (analytics/views.py ``report_csv`` / ``report_pdf``, owned by the analytics work) must call, once the
response is built::

    audit_record(request=request, action=AuditAction.EXPORT, object_type="analytics.report_csv",
                 object_id=_file_stem(month, plan_id))

Rows carry ids only: no names, no PHI. The request id is the ``X-Request-ID`` header when a proxy sets one,
else a UUID made once per request.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.admin.options import ModelAdmin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ops.platform.models import AuditAction, AuditEvent


def request_id(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    cached = getattr(request, "_audit_request_id", None)
    if cached is None:
        cached = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        request._audit_request_id = cached  # type: ignore[attr-defined]
    return str(cached)


def audit_record(
    *,
    action: str,
    object_type: str,
    object_id: object = "",
    request: HttpRequest | None = None,
    user: Any = None,
) -> AuditEvent:
    """Write one audit event now; ``user`` defaults to ``request.user``. Returns the saved event.

    ``object_type`` is "app_label.model" (or "analytics.report_csv" for an export), ``object_id`` the
    primary key (or another non-PHI identifier). Raises ValueError for an unknown action.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id or "")[:64],
        request_id=request_id(request),
    )


class AuditedAdminMixin(ModelAdmin):  # type: ignore[type-arg]
    """ModelAdmin mixin that audits views, additions, changes and deletions of its model (list it first)."""

    def _audit(self, request: HttpRequest, action: str, object_id: object = "") -> None:
        audit_record(request=request, action=action, object_type=self.opts.label_lower, object_id=object_id)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self._audit(request, AuditAction.VIEW)
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self._audit(request, AuditAction.VIEW, object_id)
        return response

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, AuditAction.ADD, obj.pk)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, AuditAction.CHANGE, obj.pk)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        # A queryset (bulk delete action) or a list of one object (delete page).
        for obj in queryset:
            self._audit(request, AuditAction.DELETE, obj.pk)
        return super().log_deletions(request, queryset)
