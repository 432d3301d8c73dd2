"""The read replica, on a real hot standby (`make replica`: a second PostgreSQL cluster streaming from the first).

The test database is created on the primary and reaches the standby by replication, like every row the tests
write: each test commits (transactional tests) and waits until the standby has replayed the primary's WAL.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.services.summaries import summaries_rebuild
from analytics.tests.data import ensure_reference_data, make_user
from claims.models import Claim
from claims.tests.factories import ClaimFactory
from members.models import HealthPlan
from members.tests.factories import HealthPlanFactory
from ops.platform import replica
from ops.platform.replica import REPLICA_ALIAS, reading_alias, replica_reads, replica_state

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA_ALIAS])

if REPLICA_ALIAS not in settings.DATABASES:
    # CI runs `make replica` before the tests (`make test` does): a missing standby there is a failure.
    if os.environ.get("CI"):
        pytest.fail(
            "no read replica configured: `make replica` writes DATABASE_REPLICA_URL to .env", pytrace=False
        )
    pytest.skip("no read replica configured (`make replica`)", allow_module_level=True)


def _admin_dsn(alias: str) -> str:
    """The superuser (DATABASE_ADMIN_URL's user) at ``alias``'s server and database."""
    cfg = connections[alias].settings_dict
    admin = psycopg.conninfo.conninfo_to_dict(settings.DATABASE_ADMIN_URL)
    return psycopg.conninfo.make_conninfo(
        host=cfg["HOST"], port=cfg["PORT"], dbname=cfg["NAME"], user=admin.get("user", "postgres")
    )


def replayed(timeout: float = 20.0) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with psycopg.connect(_admin_dsn(REPLICA_ALIAS), autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()
            if row and row[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay up to {target} in {timeout} s")
            time.sleep(0.05)


@pytest.fixture
def replica_on(settings: Any) -> Iterator[None]:
    settings.DATABASE_REPLICA_READS = True
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 30.0
    replica.forget_state()
    yield
    replica.forget_state()


@pytest.fixture
def paused_replay() -> Iterator[psycopg.Connection[Any]]:
    """The standby with WAL replay paused (it keeps receiving): what it shows goes stale. Resumed after."""
    replayed()
    with psycopg.connect(_admin_dsn(REPLICA_ALIAS), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")


def _analyst() -> Client:
    client = Client()
    client.force_login(make_user(get_user_model(), "analyst", group=ensure_reference_data()))
    return client


def _sql_on(captured: CaptureQueriesContext, table: str) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if f'"{table}"' in q["sql"]]


def test_analytics_reads_go_to_the_replica_and_the_sign_in_to_the_primary(replica_on: None) -> None:
    HealthPlanFactory(name="Replicated Plan")
    analyst = _analyst()
    replayed()
    with (
        CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = analyst.get(reverse("analytics:report"))
    assert response.status_code == 200
    assert "Replicated Plan" in response.content.decode()
    assert _sql_on(on_replica, "members_healthplan"), "the report's plan list was not read on the replica"
    assert not _sql_on(on_primary, "members_healthplan")
    # "Data as of" is the replica's: the refresh log it shows is read where the page's data is.
    assert _sql_on(on_replica, "analytics_refreshlog") and not _sql_on(on_primary, "analytics_refreshlog")
    # The session and the user, which the sign-in wrote a moment ago, are read on the primary.
    assert _sql_on(on_primary, "django_session") and not _sql_on(on_replica, "django_session")
    assert _sql_on(on_primary, "auth_user") and not _sql_on(on_replica, "auth_user")

    with replica_reads(), connections[reading_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        assert cursor.fetchone() == (True, int(connections[REPLICA_ALIAS].settings_dict["PORT"]))
    # Django's and the libraries' own tables stay on the primary even inside replica_reads(): a session, a
    # password change or a lockout is read where it was written.
    with replica_reads():
        assert HealthPlan.objects.all().db == REPLICA_ALIAS
        assert get_user_model().objects.all().db == "default"
    # Outside replica_reads(), and inside a transaction, the same read is the primary's.
    assert reading_alias() == "default"
    with replica_reads(), transaction.atomic():
        assert reading_alias() == "default"
        assert HealthPlan.objects.filter(name="Replicated Plan").db == "default"


def test_without_routing_everything_reads_the_primary(settings: Any) -> None:
    settings.DATABASE_REPLICA_READS = False
    replica.forget_state()
    with replica_reads():
        assert reading_alias() == "default"
        assert HealthPlan.objects.all().db == "default"
    assert replica_state().reason == "not_configured"


def test_a_write_in_the_admin_is_read_back_by_the_admin_while_the_replica_is_stale(
    replica_on: None, paused_replay: psycopg.Connection[Any], settings: Any
) -> None:
    plan = HealthPlanFactory(name="Before Edit")
    admin_user = get_user_model().objects.create_superuser("super", "super@example.org", "pw-irrelevant")
    client = Client()
    client.force_login(admin_user)
    # A stale replica that is still within the lag limit: stale-tolerant reads do go there.
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 3600.0
    assert replica_state(fresh=True).usable

    form = {k: ("" if v is None else v) for k, v in model_to_dict(plan).items()}
    form.update(name="After Edit", _save="Save")
    url = reverse("admin:members_healthplan_change", args=[plan.pk])
    response = client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    page = client.get(url).content.decode()
    assert 'value="After Edit"' in page

    # The negative control: the same plan read the stale-tolerant way is still the replica's old row (and
    # not even there: replay stopped before the plan was made).
    with replica_reads():
        assert reading_alias() == REPLICA_ALIAS
        assert not HealthPlan.objects.filter(name="After Edit").exists()


def test_replay_lag_above_the_limit_sends_reads_to_the_primary(
    replica_on: None, paused_replay: psycopg.Connection[Any], settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert replica_state(fresh=True).usable
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    HealthPlanFactory(name="Written While Replay Is Paused")
    time.sleep(1.0)
    with caplog.at_level(logging.WARNING, logger="ops.platform.replica"):
        state = replica_state(fresh=True)
    assert (state.usable, state.reason) == (False, "lag")
    assert state.lag_seconds is not None and state.lag_seconds > 0.5
    assert "fall back to the primary" in caplog.text and "replay lag" in caplog.text
    with replica_reads():
        assert reading_alias() == "default"
        assert HealthPlan.objects.filter(name="Written While Replay Is Paused").exists()
    scraped = Client().get("/metrics", HTTP_HOST="localhost").content.decode()
    assert f"claims_db_replica_lag_seconds {state.lag_seconds}" in scraped
    assert "claims_db_replica_usable 0.0" in scraped
    assert _metric("claims_db_replica_fallbacks_total", reason="lag") >= 1

    paused_replay.execute("SELECT pg_wal_replay_resume()")
    replayed()
    state = replica_state(fresh=True)
    assert (state.usable, state.lag_seconds) == (True, 0.0)
    assert _metric("claims_db_replica_usable") == 1


def test_one_request_reads_one_database_even_when_the_check_changes_its_mind(
    replica_on: None, settings: Any
) -> None:
    with replica_reads():
        assert reading_alias() == REPLICA_ALIAS
        # The next check would send reads to the primary; inside the same replica_reads() the choice holds.
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = -1.0
        replica.forget_state()
        assert reading_alias() == REPLICA_ALIAS
        with replica_reads():  # nested: the outer choice
            assert reading_alias() == REPLICA_ALIAS
    with replica_reads():
        assert reading_alias() == "default"


def test_a_cached_analytics_answer_follows_what_the_replica_has_replayed(
    replica_on: None, settings: Any
) -> None:
    """The cache's version is the sources' last refresh as the replica shows it: a refresh the standby has not
    replayed keeps the old answer (which is what the replica holds), and once replayed, the new one is computed.
    A version bumped on the primary at the refresh's commit would cache the replica's old rows as new."""
    settings.ANALYTICS_CACHE_SECONDS = 3600
    settings.CACHES = {
        **settings.CACHES,
        "analytics": {**settings.CACHES["analytics"], "KEY_PREFIX": f"test-{time.time_ns()}"},
    }
    plan = HealthPlanFactory(name="Cached On The Replica")
    for _ in range(2):
        ClaimFactory(health_plan=plan, service_date_from=dt.date(2026, 5, 12), total_charge=Decimal("100.00"))
    summaries_rebuild(trigger="test")
    analyst = _analyst()
    replayed()

    def billed() -> tuple[str, str]:
        response = analyst.get(reverse("analytics:api-plans"), {"quarter": "2026Q2"})
        assert response.status_code == 200
        (row,) = [p for p in response.json()["plans"] if p["plan_id"] == plan.pk]
        return response["X-Cache"], row["current"]["billed"]

    assert billed() == ("miss", "200.00")
    with psycopg.connect(_admin_dsn(REPLICA_ALIAS), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            Claim.objects.filter(health_plan=plan).update(total_charge=Decimal("300.00"))
            summaries_rebuild(trigger="test")  # committed on the primary, not replayed on the standby
            assert replica_state(fresh=True).usable
            assert billed() == ("hit", "200.00")
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")
    replayed()
    assert billed() == ("miss", "600.00")
    assert billed() == ("hit", "600.00")


def test_an_unreachable_replica_sends_reads_to_the_primary(
    replica_on: None, caplog: pytest.LogCaptureFixture
) -> None:
    HealthPlanFactory(name="Served By The Primary")
    analyst = _analyst()
    conn = connections[REPLICA_ALIAS]
    port = conn.settings_dict["PORT"]
    conn.close()
    # Nothing listens on port 1 here: the connection is refused at once, as with a stopped standby.
    conn.settings_dict["PORT"] = 1
    try:
        with caplog.at_level(logging.WARNING, logger="ops.platform.replica"):
            state = replica_state(fresh=True)
        assert (state.usable, state.reason, state.lag_seconds) == (False, "unreachable", None)
        assert "replica unreachable" in caplog.text
        response = analyst.get(reverse("analytics:report"))
        assert response.status_code == 200
        assert "Served By The Primary" in response.content.decode()
        assert _metric("claims_db_replica_lag_seconds") == -1
    finally:
        conn.close()
        conn.settings_dict["PORT"] = port
    assert replica_state(fresh=True).usable


def _metric(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(name, labels)
    assert value is not None, name
    return value


def test_db_report_reads_the_catalog_on_the_replica_and_the_statistics_on_the_primary(
    replica_on: None,
) -> None:
    from ops.management.commands.db_report import build_report

    replayed()
    with (
        CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        report = build_report(["partitions", "indexes"], limit=5, using="default")
    assert any(p["parent"] == "claims_claim" for p in report["partitions"])
    assert report["indexes"]["declared_problems"] == []
    replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
    assert "relpartbound" in replica_sql
    assert "relpartbound" not in primary_sql
    # Index usage counters are each server's own: the primary's are read.
    assert "pg_stat_user_indexes" in primary_sql and "pg_stat_user_indexes" not in replica_sql
