"""Members' identifiers at rest: encrypted, found by keyed hash, re-encrypted by the rotation command, revealed
only with the permission and a reason (members/pii.py, members/admin.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from members.models import MemberPII
from members.pii import keys_reload, pii_by_ssn, ssn_hmac
from members.tests.factories import MemberFactory, MemberPIIFactory
from ops.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

SSN = "900-12-3456"


def _stored(member_id: int) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT address_line1, address_line2, phone, email, ssn, ssn_hmac FROM members_memberpii "
            "WHERE member_id = %s",
            [member_id],
        )
        names = [c.name for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_no_identifier_is_stored_in_plain_text() -> None:
    pii = MemberPIIFactory(ssn=SSN, phone="6145550199", email="jo.doe@example.org", address_line1="1 Elm St")
    stored = _stored(pii.pk)
    for name, plain in (("ssn", SSN), ("phone", "6145550199"), ("email", "jo.doe@example.org")):
        assert stored[name].startswith("gAAAAA") and plain not in stored[name], name
    assert stored["address_line1"].startswith("gAAAAA") and stored["address_line2"] is None
    assert stored["ssn_hmac"] == ssn_hmac("900123456") and len(stored["ssn_hmac"]) == 64
    again = MemberPII.objects.get(pk=pii.pk)
    assert (again.ssn, again.phone, again.email, again.address_line1) == (
        SSN,
        "6145550199",
        "jo.doe@example.org",
        "1 Elm St",
    )


def test_an_ssn_is_found_by_its_keyed_hash_whatever_its_punctuation() -> None:
    pii = MemberPIIFactory(ssn=SSN)
    MemberPIIFactory(ssn="900-12-3457")
    assert pii_by_ssn("900123456") == pii and pii_by_ssn(" 900-12-3456 ") == pii
    assert pii_by_ssn("900-12-9999") is None and pii_by_ssn("") is None
    with override_settings(PII_HMAC_KEY="another-key"):
        assert pii_by_ssn(SSN) is None  # the hash is keyed: without the key, no lookup


def test_rotation_reencrypts_under_the_new_key_and_the_old_key_can_go() -> None:
    pii = MemberPIIFactory(ssn=SSN, phone="6145550199")
    before = _stored(pii.pk)
    with override_settings(SALT_KEY=["new-salt", "dev-only-pii-salt"]):
        out = io.StringIO()
        call_command("pii_reencrypt", "--batch", "1", stdout=out)
        assert "re-encrypted" in out.getvalue()
        after = _stored(pii.pk)
        assert after["ssn"] != before["ssn"] and after["ssn_hmac"] == before["ssn_hmac"]
    try:
        with override_settings(SALT_KEY=["new-salt"]):  # the old salt dropped: the rows still read
            again = MemberPII.objects.get(pk=pii.pk)
            assert (again.ssn, again.phone) == (SSN, "6145550199")
        with override_settings(SALT_KEY=["dev-only-pii-salt"]):  # negative control: the old key alone cannot
            field = MemberPII._meta.get_field("ssn")
            with pytest.raises(InvalidToken):
                field.f.decrypt(after["ssn"].encode())  # type: ignore[attr-defined]
    finally:
        keys_reload()


def test_the_migration_encrypted_rows_written_in_plain_text() -> None:
    from importlib import import_module

    from django.apps import apps as global_apps

    migration = import_module("members.migrations.0004_pii_encrypted")
    member = MemberFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_memberpii (member_id, address_line1, address_line2, phone, email, ssn) "
            "VALUES (%s, '9 Oak Rd', '', '6145550100', 'x@example.org', %s)",
            [member.pk, SSN],
        )
    with connection.schema_editor() as editor:
        migration.encrypt_plaintext(global_apps, editor)
    stored = _stored(member.pk)
    assert stored["ssn"].startswith("gAAAAA") and stored["address_line2"] is None
    assert stored["ssn_hmac"] == ssn_hmac(SSN)
    assert MemberPII.objects.get(pk=member.pk).address_line1 == "9 Oak Rd"


def _client(django_user_model: Any, *codenames: str) -> Client:
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="members", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def test_reveal_needs_its_own_permission_and_a_reason(django_user_model: Any) -> None:
    pii = MemberPIIFactory(ssn=SSN)
    url = reverse("admin:members_memberpii_reveal", args=[pii.pk])
    viewer = _client(django_user_model, "view_memberpii", "change_memberpii")
    assert viewer.post(url, {"reason": "checking the member's identity"}).status_code == 403
    assert AuditEvent.objects.get(outcome="denied").object_id == "admin:members_memberpii_reveal"

    revealer = Client()
    user = django_user_model.objects.get(username="clerk")
    user.user_permissions.add(Permission.objects.get(codename="reveal_memberpii"))
    revealer.force_login(user)
    short = revealer.post(url, {"reason": "because"})
    assert short.status_code == 200 and SSN not in short.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()
    shown = revealer.post(url, {"reason": "member called about a claim"})
    assert shown.status_code == 200 and SSN in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert (event.username, event.object_id, event.reason) == (
        "clerk",
        str(pii.pk),
        "member called about a claim",
    )


def test_the_change_form_keeps_a_value_left_blank_and_replaces_a_typed_one(admin_client: Client) -> None:
    pii = MemberPIIFactory(ssn=SSN, phone="6145550199")
    url = reverse("admin:members_memberpii_change", args=[pii.pk])
    page = admin_client.get(url).content.decode()
    assert SSN not in page and "6145550199" not in page and 'placeholder="***-**-3456"' in page
    data = {
        "member": pii.member_id,
        "address_line1": "",
        "address_line2": "",
        "phone": "",
        "email": "",
        "ssn": "",
    }
    assert admin_client.post(url, {**data, "phone": "6145550111"}).status_code == 302
    again = MemberPII.objects.get(pk=pii.pk)
    assert (again.ssn, again.phone) == (SSN, "6145550111")
    assert _stored(pii.pk)["ssn_hmac"] == ssn_hmac(SSN)
