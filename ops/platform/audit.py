"""Audit trail of who viewed or changed which member, PII, claim or export (``ops.AuditEvent``).

``audit_record`` is the one writer of audit events; ``AuditedAdminMixin`` calls it from the admin:

* change page opened (GET): "view"; list page: "view" with no object id;
* saved: "change" / "add" (Django's ``log_change`` / ``log_addition`` hooks, called after a successful save);
* deleted: "delete" (``log_deletions``: the delete page and the bulk delete action).

Exports (analytics/views.py ``report_csv`` / ``report_pdf``, owned by the analytics work) must call, once the
response is built::

    audit_record(request=request, action=AuditAction.EXPORT, object_type="analytics.report_csv",
                 object_id=_file_stem(month, plan_id))

Rows carry ids only: no names, no PHI. Each row says who (user id and username), when, from where (IP address,
user agent), which request (``request_id``: a UUID the server makes once per request, never the client's; a
proxy's ``X-Request-ID`` is kept beside it as ``client_request_id``), what (action, object type and id) and
how it ended (``outcome``: allowed, denied, failed).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.admin.options import ModelAdmin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from ops.platform.models import AuditAction, AuditEvent, AuditOutcome


def request_id(request: HttpRequest | None) -> str:
    """The server's id of ``request`` (a UUID, made once per request), "" without a request."""
    if request is None:
        return ""
    cached = getattr(request, "_audit_request_id", None)
    if cached is None:
        cached = uuid.uuid4().hex
        request._audit_request_id = cached  # type: ignore[attr-defined]
    return str(cached)


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR: the peer the server saw. Behind a proxy, set the proxy to pass it (uwsgi/gunicorn options);
    # a header the client could write is not trusted here.
    address = request.META.get("REMOTE_ADDR") or None
    return address[:45] if address else None


def audit_record(
    *,
    action: str,
    object_type: str,
    object_id: object = "",
    request: HttpRequest | None = None,
    user: Any = None,
    outcome: str = AuditOutcome.ALLOWED,
    username: str = "",
    reason: str = "",
    search_term: str = "",
    detail: str = "",
) -> AuditEvent:
    """Write one audit event now; ``user`` defaults to ``request.user``. Returns the saved event.

    ``object_type`` is "app_label.model" (or "analytics.report_csv" for an export), ``object_id`` the
    primary key (or another non-PHI identifier). ``username`` names the account of an event without a signed-in
    user (a failed sign-in); ``reason`` is the user's stated reason (a PII reveal); ``search_term`` a list's
    search (kept in the audit row only); ``detail`` what the page showed beyond its object. Marks ``request`` as
    audited, so ``AuditResponseMiddleware`` does not record it again. Raises ValueError for an unknown action or
    outcome.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    if outcome not in AuditOutcome.values:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if request is not None:
        request._audit_recorded = True  # type: ignore[attr-defined]
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        user_id=user.pk if authenticated else None,
        username=(user.get_username() if authenticated else username)[:150],
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id or "")[:64],
        request_id=request_id(request),
        client_request_id=(request.headers.get("X-Request-ID", "") if request is not None else "")[:64],
        outcome=outcome,
        ip_address=_client_ip(request) if request is not None else None,
        user_agent=(request.headers.get("User-Agent", "") if request is not None else "")[:200],
        reason=reason[:200],
        search_term=search_term[:200],
        detail=detail[:100],
    )


class AuditedAdminMixin(ModelAdmin):  # type: ignore[type-arg]
    """ModelAdmin mixin that audits views, additions, changes and deletions of its model (list it first)."""

    def _audit(self, request: HttpRequest, action: str, object_id: object = "") -> None:
        audit_record(
            request=request,
            action=action,
            object_type=self.opts.label_lower,
            object_id=object_id,
            search_term=request.GET.get("q", "") if request.method == "GET" else "",
            detail=self.audit_detail(request, object_id),
        )

    def audit_detail(self, request: HttpRequest, object_id: object) -> str:
        """What the page showed beyond its object (an override says, e.g., that a PII inline was on it)."""
        return ""

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


def _route(request: HttpRequest) -> str:
    """The URL pattern's name ("admin:claims_claim_change"), else the path without its query string: an audit
    row names the page, never a search term."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return str(match.view_name)[:64]
    return request.path[:64]


# Pages behind sign-in that may show PHI: every admin page (bar the few below) and every analytics page and its
# JSON. Their requests are audited even when no admin hook recorded them (ops pages, claim lines, history,
# batches, autocomplete, analytics).
AUDITED_PREFIXES = ("/admin/", "/analytics/")
UNAUDITED_ROUTES = frozenset(
    {
        "admin:jsi18n",
        "admin:login",
        "admin:logout",
        "admin:index",
        "admin:password_change",
        "admin:password_change_done",
        "admin:app_list",
    }
)


class AuditResponseMiddleware:
    """Three rules for every response (list it after AuthenticationMiddleware):

    * a signed-in user's response is not stored by the browser or a proxy (``Cache-Control: no-store, private``):
      every page behind sign-in may show PHI, exports included (45 CFR 164.312(c)(1));
    * a 403 (permission, CSRF) is an audit event with outcome "denied" (45 CFR 164.312(b));
    * a signed-in request to a page that may show PHI (``AUDITED_PREFIXES``) that nothing audited on the way is
      recorded here: "view" (GET) or "change" (other methods), the model (an admin model page) or the route's
      name, the object id, the search term, and the outcome by status (4xx denied, 5xx failed).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in:
            patch_cache_control(response, no_store=True, private=True)
        if response.status_code == 403:
            audit_record(
                request=request,
                action=AuditAction.VIEW,
                object_type="http.page",
                object_id=_route(request),
                outcome=AuditOutcome.DENIED,
            )
        elif signed_in and not getattr(request, "_audit_recorded", False) and _audited_page(request):
            match = request.resolver_match
            model_admin = getattr(getattr(match, "func", None), "model_admin", None)
            audit_record(
                request=request,
                action=AuditAction.VIEW if request.method in ("GET", "HEAD") else AuditAction.CHANGE,
                object_type=model_admin.opts.label_lower if model_admin is not None else _route(request),
                object_id=(match.kwargs.get("object_id", "") if match is not None else ""),
                outcome=(
                    AuditOutcome.FAILED
                    if response.status_code >= 500
                    else AuditOutcome.DENIED
                    if response.status_code >= 400
                    else AuditOutcome.ALLOWED
                ),
                search_term=request.GET.get("q", "") or request.GET.get("term", ""),
            )
        return response


def _audited_page(request: HttpRequest) -> bool:
    return request.path.startswith(AUDITED_PREFIXES) and _route(request) not in UNAUDITED_ROUTES


def _signed_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **_: Any) -> None:
    audit_record(
        request=request, user=user, action=AuditAction.LOGIN, object_type="auth.user", object_id=user.pk
    )


def _signed_out(sender: Any, request: HttpRequest | None = None, user: Any = None, **_: Any) -> None:
    if user is not None:
        audit_record(
            request=request, user=user, action=AuditAction.LOGOUT, object_type="auth.user", object_id=user.pk
        )


def _refused_sign_in(request: HttpRequest | None, action: str, username: str, detail: str = "") -> None:
    audit_record(
        request=request,
        action=action,
        object_type="auth.user",
        outcome=AuditOutcome.DENIED,
        username=username,
        detail=detail,
    )


# What a failed sign-in's ``credentials["factor"]`` (config.admin_site.PlatformLoginForm) means in the trail.
_FAILED_FACTOR = {"totp": "second factor (TOTP code) refused"}


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    # Django masks the password in ``credentials``; only the username and the failed factor are kept.
    detail = _FAILED_FACTOR.get(str(credentials.get("factor", "")), "")
    _refused_sign_in(request, AuditAction.LOGIN_FAILED, str(credentials.get("username", "")), detail)


def _locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **_: Any
) -> None:
    _refused_sign_in(request, AuditAction.LOCKOUT, username or "")


def audit_sign_in_connect() -> None:
    """Audit sign-ins, sign-outs, failed sign-ins (Django's auth signals) and lockouts (django-axes'
    ``user_locked_out``). Called once from ``OpsConfig.ready``."""
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(_signed_in, dispatch_uid="ops.audit.login")
    user_logged_out.connect(_signed_out, dispatch_uid="ops.audit.logout")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="ops.audit.login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="ops.audit.lockout")
