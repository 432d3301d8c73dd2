"""The platform's admin site: staff sign in with a password and a TOTP code (django-otp), 45 CFR 164.312(d).

``PlatformAdminSite`` is django-otp's ``OTPAdminSite`` (a user without a verified device is treated as not staff;
the login form asks for the code) while ``settings.OTP_REQUIRED`` holds, which ``config.settings.prod`` enforces.
With it off (tests that sign in without a device; a developer who sets ``OTP_REQUIRED=False`` in ``.env``) it is
Django's own admin site. Installed as the default admin site by ``config.apps.PlatformAdminConfig`` (INSTALLED_APPS).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite, _admin_template_for_django_version


class PlatformLoginForm(OTPAdminAuthenticationForm):
    """django-otp's admin sign-in form, where a user with a single device need not pick it: django-otp lists the
    devices only after a first try, so the code typed with the password would otherwise always be refused once.
    A refused code sends ``user_login_failed`` (credentials: username and ``factor="totp"``) before the form
    error is raised."""

    def clean_otp(self, user: Any) -> None:
        if user is not None and not self.cleaned_data.get("otp_device"):
            devices = list(devices_for_user(user))
            if len(devices) == 1:
                self.cleaned_data["otp_device"] = devices[0].persistent_id
        try:
            super().clean_otp(user)
        except ValidationError:
            # A missing or wrong code is a failed sign-in like a wrong password: Django's own signal lets
            # django-axes count it toward the lockout and the audit trail record it (45 CFR 164.312(b), (d)).
            # "factor" tells the receivers which step failed; the code itself is never passed on.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username", ""), "factor": "totp"},
                request=self.request,
            )
            raise


class PlatformAdminSite(OTPAdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    @property  # type: ignore[override]
    def login_form(self) -> Any:
        return PlatformLoginForm if settings.OTP_REQUIRED else AdminAuthenticationForm

    @property  # type: ignore[override]
    def login_template(self) -> Any:
        return _admin_template_for_django_version() if settings.OTP_REQUIRED else None

    def has_permission(self, request: HttpRequest) -> bool:
        if settings.OTP_REQUIRED:
            return bool(super().has_permission(request))
        return AdminSite.has_permission(self, request)
