"""Who may open the analytics pages: a logged-in user with analytics.view_dashboards.

The "analysts" group holds the permission (migration 0003); superusers have every permission. Anonymous
users are sent to the admin's login form (which admits staff users only, so analysts are staff users
without model permissions); a logged-in user without the permission gets 403.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponseBase
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET

PERMISSION = "analytics.view_dashboards"


def analyst_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """GET only; login (redirect to the admin login), then the permission (403 without it)."""
    guarded = permission_required(PERMISSION, raise_exception=True)(require_GET(view))
    return login_required(guarded, login_url=reverse_lazy("admin:login"))
