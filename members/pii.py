"""Members' direct identifiers encrypted at rest, looked up by keyed hash, shown masked (45 CFR 164.312(a)(2)(iv),
encryption and decryption; 164.514(b)(2) lists names, addresses, phone numbers, e-mail and SSNs as identifiers).

* **Encryption** (``MemberPII`` address lines, phone, e-mail, SSN): django-fernet-encrypted-fields, Fernet
  (AES-128-CBC + HMAC-SHA256) with keys derived from ``SECRET_KEY`` and each ``SALT_KEY`` (settings, from the
  environment: ``DJANGO_SECRET_KEY``, ``PII_SALT_KEYS``). The first key encrypts, every key decrypts
  (``MultiFernet``), so a rotation is: put the new salt first (or the new secret first, the old one in
  ``SECRET_KEY_FALLBACKS``), then ``manage.py pii_reencrypt`` rewrites every row under the first key; then drop
  the old one.
* **Lookup**: an SSN cannot be searched in ciphertext (each encryption is randomised), so ``ssn_hmac`` keeps
  HMAC-SHA256 of its nine digits under ``PII_HMAC_KEY``; ``pii_by_ssn`` finds a member by it. Changing that key
  needs ``pii_reencrypt`` too (it recomputes every hash).
* **Masking**: ``masked_ssn`` ("***-**-1234"), ``masked_phone``, ``masked_email``; the admin shows these, and the
  whole value only through its audited "reveal" (members/admin.py).
* **Bulk writers** (ingest, the synthetic generator) COPY rows: ``pii_copy_row`` encrypts and hashes them in the
  order of ``PII_COPY_COLUMNS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver
from encrypted_fields.fields import EncryptedFieldMixin

from members.models import MemberPII
from members.ssn import ssn_digits, ssn_hmac

__all__ = ["ssn_digits", "ssn_hmac"]

ENCRYPTED_FIELDS = ("address_line1", "address_line2", "phone", "email", "ssn")
PII_COPY_COLUMNS = ("member_id", *ENCRYPTED_FIELDS, "ssn_hmac")
PII_TABLE = MemberPII._meta.db_table


def _field(name: str) -> EncryptedFieldMixin:
    return cast(EncryptedFieldMixin, MemberPII._meta.get_field(name))


def _fields() -> Iterator[EncryptedFieldMixin]:
    for name in ENCRYPTED_FIELDS:
        yield _field(name)


def encrypt(name: str, value: str | None) -> str | None:
    """The ciphertext of ``value`` for field ``name`` of MemberPII (None for an empty value, as the field stores)."""
    return cast(str | None, _field(name).get_prep_value(value or None))


def pii_copy_row(
    member_id: int, address_line1: str, address_line2: str, phone: str, email: str, ssn: str
) -> tuple[object, ...]:
    """One COPY row in ``PII_COPY_COLUMNS`` order: the identifiers encrypted, the SSN's keyed hash beside."""
    return (
        member_id,
        encrypt("address_line1", address_line1),
        encrypt("address_line2", address_line2),
        encrypt("phone", phone),
        encrypt("email", email),
        encrypt("ssn", ssn),
        ssn_hmac(ssn),
    )


def pii_by_ssn(value: str) -> MemberPII | None:
    """The member PII whose SSN is ``value`` (any punctuation), by its keyed hash; None when there is none."""
    digest = ssn_hmac(value)
    if not digest:
        return None
    return MemberPII.objects.filter(ssn_hmac=digest).select_related("member").first()


def masked_ssn(value: str | None) -> str:
    digits = ssn_digits(value)
    return f"***-**-{digits[-4:]}" if len(digits) >= 4 else ""


def masked_phone(value: str | None) -> str:
    digits = ssn_digits(value)
    return f"***-***-{digits[-4:]}" if len(digits) >= 4 else ""


def masked_email(value: str | None) -> str:
    local, at, domain = (value or "").partition("@")
    return f"{local[:1]}***@{domain}" if at else ""


def keys_reload() -> None:
    """Forget the keys the encrypted fields derived (they cache them): after a change of ``SECRET_KEY``,
    ``SECRET_KEY_FALLBACKS`` or ``SALT_KEY`` in a running process (the rotation test, a shell)."""
    for field in _fields():
        for cached in ("keys", "f"):
            field.__dict__.pop(cached, None)


@receiver(setting_changed)
def _setting_changed(setting: str, **_: Any) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "SALT_KEY"):
        keys_reload()


def pii_reencrypt(*, batch: int = 2_000) -> int:
    """Rewrite every MemberPII row's ciphertexts under the first key (``MultiFernet.rotate``: decrypt with any
    key, encrypt with the first) and recompute ``ssn_hmac`` under the current ``PII_HMAC_KEY``, ``batch`` rows
    per transaction, in member id order. Returns the rows rewritten.

    Raises ``cryptography.fernet.InvalidToken`` (nothing of that batch written) when a value decrypts under no
    key: the old key was dropped before the rotation finished.
    """
    fernet = _field("ssn").f
    columns = ", ".join(ENCRYPTED_FIELDS)
    done, last = 0, -1
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT member_id, {columns} FROM {PII_TABLE} WHERE member_id > %s ORDER BY member_id LIMIT %s "
                f"FOR UPDATE",
                [last, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            updated = []
            for member_id, *values in rows:
                rotated = [fernet.rotate(v.encode()).decode() if v else None for v in values]
                ssn = fernet.decrypt(values[-1].encode()).decode() if values[-1] else ""
                updated.append((member_id, *rotated, ssn_hmac(ssn)))
            assignments = ", ".join(f"{name} = v.{name}" for name in (*ENCRYPTED_FIELDS, "ssn_hmac"))
            cursor.execute(
                f"UPDATE {PII_TABLE} AS p SET {assignments} FROM unnest(%s::bigint[], "
                + ", ".join(["%s::text[]"] * (len(ENCRYPTED_FIELDS) + 1))
                + f") AS v(member_id, {columns}, ssn_hmac) WHERE p.member_id = v.member_id",
                [list(column) for column in zip(*updated, strict=True)],
            )
        done += len(rows)
        last = rows[-1][0]
