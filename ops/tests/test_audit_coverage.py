"""Every PHI-bearing page is audited once (ops/platform/audit.py AuditResponseMiddleware), search terms stay out of
the access log (ops/platform/logs.py), and the accounting of disclosures answers "who saw member X's PHI"
(ops/disclosures.py, the admin page and ``manage.py audit_report``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.tests.factories import MemberFactory, MemberPIIFactory
from ops.models import AuditAction, AuditEvent
from ops.platform.logs import ScrubQueryString
from ops.platform.models import AuditOutcome
from ops.tests.helpers import add_claims, parties

pytestmark = pytest.mark.django_db


def _events(since_id: int = 0) -> list[tuple[str, str, str, str, str]]:
    return list(
        AuditEvent.objects.filter(id__gt=since_id)
        .exclude(action=AuditAction.LOGIN)
        .order_by("id")
        .values_list("action", "object_type", "object_id", "search_term", "outcome")
    )


def _last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            lambda: reverse("admin:claims_claimline_changelist"),
            ("view", "claims.claimline", "", "", "allowed"),
        ),
        (
            lambda: reverse("admin:claims_claimstatushistory_changelist"),
            ("view", "claims.claimstatushistory", "", "", "allowed"),
        ),
        (
            lambda: reverse("admin:claims_ingestbatch_changelist"),
            ("view", "claims.ingestbatch", "", "", "allowed"),
        ),
        (lambda: reverse("admin:ops_activity"), ("view", "admin:ops_activity", "", "", "allowed")),
        (lambda: reverse("analytics:overview"), ("view", "analytics:overview", "", "", "allowed")),
        (
            lambda: reverse("analytics:api-overview-daily"),
            ("view", "analytics:api-overview-daily", "", "", "allowed"),
        ),
        (
            lambda: (
                reverse("admin:autocomplete")
                + "?term=FRY&app_label=claims&model_name=claim&field_name=member"
            ),
            ("view", "admin:autocomplete", "", "FRY", "allowed"),
        ),
        (
            lambda: reverse("admin:members_enrollment_changelist") + "?q=FRYE",
            ("view", "members.enrollment", "", "FRYE", "allowed"),
        ),
    ],
    ids=[
        "claim lines",
        "history",
        "batches",
        "ops activity",
        "analytics page",
        "analytics json",
        "autocomplete",
        "enrollment search",
    ],
)
def test_every_phi_page_leaves_one_audit_event(
    admin_client: Client, url: Any, expected: tuple[str, ...]
) -> None:
    start = _last_id()
    response = admin_client.get(url())
    assert response.status_code in (200, 400), response.status_code  # the autocomplete may refuse the field
    event = _events(start)
    if response.status_code == 400:
        expected = (*expected[:4], AuditOutcome.DENIED)
    assert event == [expected]


def test_a_page_its_admin_audits_is_not_recorded_twice_and_says_the_pii_inline(
    admin_client: Client, django_user_model: Any
) -> None:
    pii = MemberPIIFactory()
    start = _last_id()
    assert admin_client.get(reverse("admin:members_member_change", args=[pii.member_id])).status_code == 200
    events = list(
        AuditEvent.objects.filter(id__gt=start)
        .exclude(action=AuditAction.LOGIN)
        .values_list("object_type", "detail")
    )
    assert events == [("members.member", "PII inline (masked)")]

    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename="view_member"))
    client = Client()
    client.force_login(clerk)
    start = _last_id()
    assert client.get(reverse("admin:members_member_change", args=[pii.member_id])).status_code == 200
    assert list(
        AuditEvent.objects.filter(id__gt=start)
        .exclude(action=AuditAction.LOGIN)
        .values_list("object_type", "detail")
    ) == [("members.member", "")]


def test_the_access_log_keeps_no_query_string(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("django.server")
    assert any(isinstance(f, ScrubQueryString) for f in logger.filters)
    record = logger.makeRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /admin/members/member/?q=FRYE&o=1 HTTP/1.1", "200", "5120"),
        None,
    )
    for log_filter in logger.filters:
        log_filter.filter(record)
    assert record.getMessage() == '"GET /admin/members/member/?… HTTP/1.1" 200 5120'


def _disclosure_world(django_user_model: Any) -> dict[str, Any]:
    plan, member, provider = parties()
    other = MemberFactory()
    pii = MemberPIIFactory(member=member)
    claims = add_claims([timezone.now().date().replace(day=1)], with_parties=(plan, member, provider))
    viewer = django_user_model.objects.create_superuser("viewer", "v@example.com", "x")
    client = Client()
    client.force_login(viewer)
    client.get(reverse("admin:members_member_change", args=[member.pk]))
    client.get(reverse("admin:claims_claim_change", args=[claims[0].pk]))
    client.post(
        reverse("admin:members_memberpii_reveal", args=[pii.pk]), {"reason": "member asked for a letter"}
    )
    client.get(reverse("admin:members_member_change", args=[other.pk]))  # not member's: left out
    return {"member": member, "claim": claims[0]}


def test_the_accounting_of_disclosures_lists_who_saw_a_members_phi(django_user_model: Any) -> None:
    world = _disclosure_world(django_user_model)
    out = io.StringIO()
    call_command("audit_report", "--member", world["member"].member_number, "--json", stdout=out)
    document = json.loads(out.getvalue())
    rows = [
        (e["username"], e["action"], e["object_type"], e["object_id"], e["reason"])
        for e in document["events"]
    ]
    member_id = str(world["member"].pk)
    assert rows == [
        ("viewer", "view", "members.member", member_id, ""),
        ("viewer", "view", "claims.claim", str(world["claim"].pk), ""),
        ("viewer", "reveal", "members.memberpii", member_id, "member asked for a letter"),
    ]
    # The report is itself a disclosure of who looked: recorded.
    assert AuditEvent.objects.filter(object_type="ops.disclosures", object_id=member_id).count() == 1
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    empty = io.StringIO()
    call_command(
        "audit_report", "--member", member_id, "--since", tomorrow, "--until", tomorrow, stdout=empty
    )
    assert "0 events" in empty.getvalue()


def test_the_disclosures_admin_page(django_user_model: Any, admin_client: Client) -> None:
    world = _disclosure_world(django_user_model)
    url = reverse("admin:ops_auditevent_disclosures")
    assert admin_client.get(url).status_code == 200
    today = timezone.now().date().isoformat()
    page = admin_client.post(url, {"member": world["member"].member_number, "since": today, "until": today})
    assert page.status_code == 200
    content = page.content.decode()
    assert "3 events" in content and "member asked for a letter" in content
    unknown = admin_client.post(url, {"member": "NO-SUCH", "since": today, "until": today})
    assert "no member with that id or member number" in unknown.content.decode()
