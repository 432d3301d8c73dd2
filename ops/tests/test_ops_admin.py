"""The ops pages in the admin: who may open what (403 otherwise), and what each page renders."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from ops import pg_stats
from ops.tests.conftest import run
from tests.owner import dropped_index

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("app_may_create")]

REPORT_PAGES = [
    "ops_opsaccess_changelist",
    "ops_slow_queries",
    "ops_indexes",
    "ops_tables",
    "ops_advisor",
    "ops_activity",
]


def _user(django_user_model: Any, name: str, *perms: str, superuser: bool = False) -> Client:
    if superuser:
        user = django_user_model.objects.create_superuser(name, f"{name}@example.com", "pw")
    else:
        user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="ops", codename__in=perms)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ops_client(django_user_model: Any) -> Client:
    return _user(django_user_model, "opsuser", "view_ops_reports")


@pytest.fixture
def root_client(django_user_model: Any) -> Client:
    return _user(django_user_model, "root", superuser=True)


def test_staff_without_the_permission_gets_403_everywhere(django_user_model: Any) -> None:
    client = _user(django_user_model, "plainstaff")
    for name in [*REPORT_PAGES, "ops_explain", "ops_reset_statements"]:
        assert client.get(reverse(f"admin:{name}")).status_code == 403, name
    assert client.post(reverse("admin:ops_cancel_backend"), {"pid": "1"}).status_code == 403


def test_anonymous_is_sent_to_the_login_page() -> None:
    response = Client().get(reverse("admin:ops_tables"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_an_ops_user_sees_the_reports_but_not_explain_reset_or_cancel(ops_client: Client) -> None:
    for name in REPORT_PAGES:
        assert ops_client.get(reverse(f"admin:{name}")).status_code == 200, name
    assert ops_client.get(reverse("admin:ops_explain")).status_code == 403
    assert ops_client.get(reverse("admin:ops_reset_statements")).status_code == 403
    assert ops_client.post(reverse("admin:ops_reset_statements")).status_code == 403
    assert ops_client.post(reverse("admin:ops_cancel_backend"), {"pid": "1"}).status_code == 403
    index = ops_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:ops_opsaccess_changelist") in index


def test_reset_needs_its_own_permission_and_a_confirmed_post(django_user_model: Any) -> None:
    client = _user(django_user_model, "resetter", "view_ops_reports", "reset_pg_stat_statements")
    run("CREATE TABLE ops_admin_reset_marker (n int)")
    run("SELECT count(*) FROM ops_admin_reset_marker")
    confirm = client.get(reverse("admin:ops_reset_statements"))
    assert confirm.status_code == 200 and b"Yes, reset" in confirm.content
    page = client.get(reverse("admin:ops_slow_queries"), {"limit": 500, "min_calls": 0})
    assert b"ops_admin_reset_marker" in page.content or b"Reset statistics" in page.content
    response = client.post(reverse("admin:ops_reset_statements"))
    assert response.status_code == 302
    page = client.get(reverse("admin:ops_slow_queries"), {"limit": 500, "min_calls": 0})
    assert b"ops_admin_reset_marker" not in page.content


def test_slow_queries_page_says_how_to_enable_when_the_extension_is_missing(
    ops_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the extension were missing: its view is not there (the app role may not drop the extension).
    monkeypatch.setattr(pg_stats, "STATEMENTS_RELATION", "ops_no_pg_stat_statements")
    page = ops_client.get(reverse("admin:ops_slow_queries")).content.decode()
    assert "pg_stat_statements is not available" in page
    assert "ALTER SYSTEM SET shared_preload_libraries = &#x27;pg_stat_statements&#x27;" in page
    assert "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in page


def test_slow_queries_filters_and_orders(ops_client: Client) -> None:
    response = ops_client.get(
        reverse("admin:ops_slow_queries"), {"order": "mean", "min_calls": "x", "limit": "5"}
    )
    assert response.status_code == 200
    assert response.context["order"] == "mean" and response.context["min_calls"] == 1
    assert len(response.context["rows"]) <= 5


def test_indexes_and_tables_pages_show_planted_problems(ops_client: Client) -> None:
    run("CREATE TABLE ops_page_t AS SELECT g AS a FROM generate_series(1, 30000) g")
    run("CREATE INDEX ops_page_t_a ON ops_page_t (a)")
    run("CREATE INDEX ops_page_t_a_again ON ops_page_t (a)")
    with dropped_index("claim_billing_date_idx"):
        page = ops_client.get(reverse("admin:ops_indexes"), {"min_size_kb": 0}).content.decode()
    assert "ops_page_t_a_again" in page and "duplicate" in page
    assert "claim_billing_date_idx" in page and "missing" in page
    tables = ops_client.get(reverse("admin:ops_tables")).content.decode()
    assert "claims_claim_default" in tables and "FOR VALUES FROM" in tables


@pytest.mark.django_db(databases=["default", "reporting"])
def test_explain_page_for_a_superuser(root_client: Client) -> None:
    page = root_client.post(reverse("admin:ops_explain"), {"query": "SELECT count(*) FROM claims_claim"})
    assert page.status_code == 200 and b'id="plan-tree"' in page.content
    refused = root_client.post(reverse("admin:ops_explain"), {"query": "DELETE FROM claims_claim"})
    assert b"read-only" in refused.content


def test_cancel_a_missing_backend_says_so(root_client: Client) -> None:
    response = root_client.post(reverse("admin:ops_cancel_backend"), {"pid": "12345678"}, follow=True)
    assert b"No backend 12345678" in response.content
    page = root_client.get(reverse("admin:ops_activity"))
    assert page.status_code == 200 and page.context["can_cancel"]
