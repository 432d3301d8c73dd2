"""Production: only tightens base. A missing secret is a startup error, never a silent default."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
for _name, _value in (("PII_SALT_KEYS", SALT_KEY[0]), ("PII_HMAC_KEY", PII_HMAC_KEY)):  # noqa: F405
    if _value.startswith("dev-only"):
        raise ImproperlyConfigured(f"{_name} must be set in production")
if not OTP_REQUIRED:  # noqa: F405
    raise ImproperlyConfigured("OTP_REQUIRED must stay on in production (staff sign in with a TOTP code)")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# HTTPS only (check --deploy W004, W008). Behind a proxy that terminates TLS, set SECURE_PROXY_SSL_HEADER there.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# /metrics only for the Prometheus scraper's addresses (comma-separated).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
