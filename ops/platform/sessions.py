"""Session lifetime: 15 minutes idle, 12 hours at most (45 CFR 164.312(a)(2)(iii), automatic logoff).

The idle limit is Django's own: ``SESSION_COOKIE_AGE`` = 900 s with ``SESSION_SAVE_EVERY_REQUEST``, so each
request moves the expiry 15 minutes on. Django has no absolute limit: ``SessionLifetimeMiddleware`` keeps the
sign-in time in the session (``user_logged_in``) and signs the user out once ``SESSION_ABSOLUTE_SECONDS``
(43,200) have passed, however active the session has been.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "ops_signed_in_at"  # session key: time.time() at sign-in, seconds


def session_started(sender: Any, request: HttpRequest | None = None, **_: Any) -> None:
    """``user_logged_in`` receiver: the session's sign-in time."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()


class SessionLifetimeMiddleware:
    """Signs out a session older than ``settings.SESSION_ABSOLUTE_SECONDS`` and sends the browser to the sign-in
    page with ``next`` = the path only (a query string may hold a search term). List it after
    AuthenticationMiddleware."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            if started is None:
                # A session from before this rule: its clock starts now.
                request.session[SIGNED_IN_AT] = time.time()
            elif time.time() - float(started) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect_to_login(request.path)
        response: HttpResponse = self.get_response(request)
        return response
