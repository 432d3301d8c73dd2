"""Who may open the analytics pages: a logged-in user with analytics.view_dashboards.

The "analysts" group holds the permission (migration 0003); superusers have every permission. Anonymous
users are sent to the admin's login form (which admits staff users only, so analysts are staff users
without model permissions); a logged-in user without the permission gets 403.

Past those checks a page reads with ``replica_reads()``: the analytics pages, their JSON, the exports and the
monthly report show materialized views and summaries that are minutes old by design, so they read the hot
standby when one is configured and current (ops.platform.replica). The sign-in checks before it read the primary.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponseBase
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET

from ops.platform.replica import replica_reads

PERMISSION = "analytics.view_dashboards"


def analyst_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """GET only; login (redirect to the admin login), then the permission (403 without it); then the view, its
    reads on the replica when one is usable."""
    guarded = permission_required(PERMISSION, raise_exception=True)(require_GET(replica_reads()(view)))
    return login_required(guarded, login_url=reverse_lazy("admin:login"))
