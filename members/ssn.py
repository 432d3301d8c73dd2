"""The SSN's keyed hash (HMAC-SHA256 under ``settings.PII_HMAC_KEY``) for exact lookup of an encrypted SSN;
kept apart from members/pii.py so the model's ``save`` can use it without importing the module that imports it."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def ssn_digits(value: str | None) -> str:
    """The digits of an SSN as written (``900-12-3456`` or ``900123456``)."""
    return "".join(ch for ch in (value or "") if ch.isdigit())


def ssn_hmac(value: str | None) -> str:
    """HMAC-SHA256 (hex, 64 characters) of the SSN's digits under ``settings.PII_HMAC_KEY``; "" for no SSN."""
    digits = ssn_digits(value)
    if not digits:
        return ""
    return hmac.new(settings.PII_HMAC_KEY.encode(), digits.encode(), hashlib.sha256).hexdigest()
