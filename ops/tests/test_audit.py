"""Audit events written when an admin user views or changes members, PII and claims (ids only, no PHI)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import MemberPII
from ops.models import AuditAction, AuditEvent
from ops.platform.audit import audit_record
from ops.platform.models import AuditOutcome
from ops.tests.helpers import add_claims


@pytest.fixture
def admin_client_with_user(db: None) -> tuple[Client, object]:
    user = get_user_model().objects.create_superuser("auditor", "a@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client, user


def events() -> list[tuple[str, str, str, str]]:
    """The audit events but the sign-in of the fixture's ``force_login`` (tests/test_security.py has those)."""
    return list(
        AuditEvent.objects.exclude(action=AuditAction.LOGIN)
        .order_by("id")
        .values_list("username", "action", "object_type", "object_id")
    )


def test_viewing_a_member_and_a_claim_and_changing_pii_are_audited(
    admin_client_with_user: tuple[Client, object],
) -> None:
    client, _ = admin_client_with_user
    (claim,) = add_claims([dt.date.today().replace(day=3)], lines=1)
    member = claim.member
    pii = MemberPII.objects.create(member=member, phone="555-0100", ssn="123-45-6789")

    assert client.get(reverse("admin:members_member_change", args=[member.pk])).status_code == 200
    assert client.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code == 200
    assert client.get(reverse("admin:members_member_changelist")).status_code == 200
    response = client.post(
        reverse("admin:members_memberpii_change", args=[member.pk]),
        {"member": member.pk, "address_line1": "1 Main St", "phone": "555-0199", "ssn": pii.ssn},
        headers={"X-Request-ID": "req-42"},
    )

    assert response.status_code == 302, response.content[:500]
    assert events() == [
        ("auditor", AuditAction.VIEW, "members.member", str(member.pk)),
        ("auditor", AuditAction.VIEW, "claims.claim", str(claim.pk)),
        ("auditor", AuditAction.VIEW, "members.member", ""),
        ("auditor", AuditAction.CHANGE, "members.memberpii", str(member.pk)),
    ]
    change = AuditEvent.objects.get(action=AuditAction.CHANGE)
    # The client's id is kept beside the server's own, never in its place (a client could replay or forge it).
    assert (
        change.client_request_id == "req-42"
        and len(change.request_id) == 32
        and change.request_id != "req-42"
    )
    assert (change.outcome, change.ip_address, change.user_agent) == (AuditOutcome.ALLOWED, "127.0.0.1", "")
    # No PHI in any column: the phone number and SSN appear nowhere in the audit table.
    flat = " ".join(str(v) for row in AuditEvent.objects.values_list() for v in row)
    assert "555-0199" not in flat and "123-45-6789" not in flat and "DOE" not in flat


def test_audit_record_for_an_export_and_unknown_actions(
    admin_client_with_user: tuple[Client, object],
) -> None:
    _, user = admin_client_with_user

    event = audit_record(
        action=AuditAction.EXPORT, object_type="analytics.report_csv", object_id="2026-10", user=user
    )

    assert (event.username, event.action, event.object_id) == ("auditor", "export", "2026-10")
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(action="peek", object_type="members.member")


@pytest.mark.django_db
def test_audit_list_newest_first_uses_the_occurred_index() -> None:
    from django.db import connection

    from ops.models import AuditEvent

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty test table: the point is the plan
        sql, params = AuditEvent.objects.order_by("-occurred_at")[:100].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Served in order by audit_occurred_idx's partition indexes (Merge Append), with no sort of the table.
    assert "Index Scan" in plan and "Sort" not in plan.replace("Sort Key", ""), plan


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET object_id = 'rewritten'",
        "DELETE FROM {table}",
    ],
)
@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_audit_trail_refuses_updates_and_deletes_whoever_sends_them(statement: str) -> None:
    # Whoever: the owner of the table (it migrated it), whom grants cannot stop (the app role is refused by its
    # grants already: ops/tests/test_roles.py); the trigger does, on the partitioned parent and on a partition
    # reached directly. Committed first, so the owner's connection sees the row.
    audit_record(action=AuditAction.VIEW, object_type="members.member", object_id="7")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'ops_auditevent'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE %s",
            [f"%{timezone.now():%Y-%m}%"],
        )
        (partition,) = cursor.fetchone()
    for table in ("ops_auditevent", partition):
        with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic(using="owner"):
            with connections["owner"].cursor() as cursor:
                cursor.execute(statement.format(table=table))
    assert list(AuditEvent.objects.values_list("object_id", flat=True)) == ["7"]
