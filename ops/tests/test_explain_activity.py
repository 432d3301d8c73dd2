"""EXPLAIN of a pasted query (read-only, one statement, findings) and live activity with a real lock wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from ops import activity, explain
from ops.platform.plans import parameter_count
from ops.tests.conftest import run
from tests.owner import owner_execute

pytestmark = [
    pytest.mark.django_db(databases=["default", "reporting"]),
    pytest.mark.usefixtures("app_may_create"),
]

LOCK_KEY = 770_001
EXPORTED = Path("/tmp/ops_explain_lo_export")


@pytest.fixture(scope="module")
def table(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """A committed scratch table: EXPLAIN runs on the reporting role's own connection, which sees only committed
    rows (the default privileges ops/roles.py sets give that role SELECT on it). a and b are equal, so
    "a = 1 AND b = 1" matches 1 % of rows where the planner, multiplying, guesses 0.01 %; 300,000 rows sort
    past the default 4 MB work_mem."""
    with django_db_blocker.unblock():
        owner_execute(  # a scratch table is the owner's (tests/owner.py)
            "CREATE TABLE ops_explain_t AS SELECT g % 100 AS a, g % 100 AS b, g AS c FROM generate_series(1, 300000) g",
            "ANALYZE ops_explain_t",
        )
    yield
    with django_db_blocker.unblock():
        owner_execute("DROP TABLE ops_explain_t")


def test_explain_shows_a_tree_and_the_findings(table: None) -> None:
    result = explain.explain_query("SELECT * FROM ops_explain_t WHERE a = 1 AND b = 1;")
    assert "Seq Scan on ops_explain_t" in result.tree
    assert "actual rows 3000" in result.tree
    kinds = {f.kind for f in result.findings}
    assert {"seq scan on large table", "row estimate"} <= kinds
    assert result.execution_ms > 0 and not result.generic


def test_a_sort_spilling_to_disk_is_found(table: None) -> None:
    result = explain.explain_query("SELECT * FROM ops_explain_t ORDER BY c DESC, a")
    assert "sort spilled to disk" in {f.kind for f in result.findings}


def test_a_write_is_refused_and_nothing_changes(table: None) -> None:
    with pytest.raises(explain.ExplainRefused, match="Refused"):
        explain.explain_query("DELETE FROM ops_explain_t")
    assert run("SELECT count(*) FROM ops_explain_t") == [(300000,)]


def test_only_one_statement_is_accepted() -> None:
    with pytest.raises(explain.ExplainRefused, match="single statement"):
        explain.explain_query("SELECT 1; SELECT 2")
    with pytest.raises(explain.ExplainRefused):
        explain.explain_query("   ")


def test_a_timeout_is_reported() -> None:
    with pytest.raises(explain.ExplainRefused, match="statement_timeout"):
        explain.explain_query("SELECT pg_sleep(2)", timeout_ms=100)


def test_explain_runs_as_the_reporting_role() -> None:
    role = settings.DATABASE_ROLES["reporting"]
    result = explain.explain_query(f"SELECT 1 WHERE current_user = '{role}' AND session_user = '{role}'")
    assert "actual rows 1 " in result.tree


# The superuser-only server functions the EXPLAIN page reached while the app connected as postgres (issue
# findings): each is now refused for the reporting role, and nothing happens on the server.
@pytest.mark.parametrize(
    "statement",
    [
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT pg_ls_dir('.')",
        "SELECT pg_reload_conf()",
        f"SELECT lo_export(1, '{EXPORTED}')",
        "SELECT pg_terminate_backend({superuser_pid})",
    ],
)
def test_server_functions_are_refused(statement: str, raw_connect: Any) -> None:
    superuser = raw_connect()  # a postgres backend of this test database, which must survive
    with pytest.raises(explain.ExplainRefused, match="may not"):
        explain.explain_query(statement.format(superuser_pid=superuser.info.backend_pid))
    assert superuser.execute("SELECT 1").fetchone() == (1,)
    assert not EXPORTED.exists()


def test_the_pii_table_is_not_readable() -> None:
    with pytest.raises(explain.ExplainRefused, match="may not") as refused:
        explain.explain_query("SELECT ssn FROM members_memberpii WHERE ssn = '123-45-6789'")
    assert "123-45-6789" not in str(refused.value)


def test_a_value_in_an_error_is_masked() -> None:
    # A cast error quotes the value it could not read: through a column, that would be a value from a table.
    with pytest.raises(explain.ExplainRefused) as refused:
        explain.explain_query("SELECT 'FRYE-1973'::integer")
    assert "FRYE-1973" not in str(refused.value)
    assert "invalid input syntax for type integer" in str(refused.value) and "22P02" in str(refused.value)


def test_like_with_a_percent_sign_is_plain_sql(table: None) -> None:
    result = explain.explain_query(
        "SELECT * FROM ops_explain_t WHERE a::text LIKE '1%' AND c::text LIKE '%0'"
    )
    assert "Seq Scan on ops_explain_t" in result.tree
    assert "~~ '1%'::text" in result.tree


def test_a_statement_with_dollar_parameters_gets_its_generic_plan(table: None) -> None:
    # As Slow queries shows it (pg_stat_statements' normalized text).
    result = explain.explain_query("SELECT c FROM ops_explain_t WHERE a = $1 AND c > $2 AND b::text <> '$3'")
    assert result.generic
    assert "Seq Scan on ops_explain_t" in result.tree and "$1" in result.tree and "$2" in result.tree
    assert "actual rows ?" in result.tree  # estimated only: a generic plan is not run
    # The prepared statement is gone again; the session can explain the same text twice.
    assert explain.explain_query("SELECT c FROM ops_explain_t WHERE a = $1").generic


def test_parameters_are_counted_outside_quotes() -> None:
    assert parameter_count("SELECT '$1', \"$2\" FROM t WHERE a = $3 AND b = $10") == 10
    assert parameter_count("SELECT 'cost $5'") == 0


def test_a_blocked_backend_is_shown_with_its_blocker_and_can_be_cancelled(raw_connect) -> None:  # type: ignore[no-untyped-def]
    holder = raw_connect()
    waiter = raw_connect()
    holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    holder_pid, waiter_pid = holder.info.backend_pid, waiter.info.backend_pid
    outcome: list[BaseException | None] = []

    def wait() -> None:
        try:
            waiter.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            outcome.append(None)
        except psycopg.Error as error:
            outcome.append(error)

    thread = threading.Thread(target=wait)
    thread.start()
    try:
        pairs: list[activity.Blocking] = []
        for _ in range(50):
            pairs = [p for p in activity.blocking() if p.blocked_pid == waiter_pid]
            if pairs:
                break
            time.sleep(0.1)
        assert [(p.blocked_pid, p.blocking_pid) for p in pairs] == [(waiter_pid, holder_pid)]
        assert "pg_advisory_lock" in pairs[0].blocked_query
        backends = {b.pid: b for b in activity.backends()}
        assert backends[waiter_pid].state == "active" and backends[waiter_pid].wait_event_type == "Lock"
        assert backends[waiter_pid].blocked_by == (holder_pid,)
        assert activity.cancel_backend(waiter_pid)
        thread.join(5)
        assert isinstance(outcome[0], psycopg.errors.QueryCanceled)
    finally:
        holder.execute("SELECT pg_advisory_unlock_all()")
        thread.join(5)
    assert not activity.cancel_backend(999_999_999 % 2_000_000_000)  # no such backend here


def test_other_sessions_statements_lose_their_literals_without_the_pii_permission(raw_connect) -> None:  # type: ignore[no-untyped-def]
    session = raw_connect()
    pid = session.info.backend_pid
    thread = threading.Thread(target=lambda: session.execute("SELECT pg_sleep(2), 'FRYE 900-12-3456' AS who"))
    thread.start()
    try:
        running = []
        for _ in range(50):
            running = [b for b in activity.backends(literals=False) if b.pid == pid and b.state == "active"]
            if running:
                break
            time.sleep(0.05)
        assert running, "the sleeping statement is seen"
        assert "FRYE" not in running[0].query and "900-12-3456" not in running[0].query
        assert "pg_sleep" in running[0].query
        with_literals = [b for b in activity.backends(literals=True) if b.pid == pid]
        assert "FRYE 900-12-3456" in with_literals[0].query
    finally:
        thread.join(5)


def test_activity_page_normalizes_for_ops_users_without_pii(client, django_user_model, raw_connect) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    user = django_user_model.objects.create_user("opsuser", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_ops_reports"))
    client.force_login(user)
    session = raw_connect()
    thread = threading.Thread(target=lambda: session.execute("SELECT pg_sleep(1.5), 'QUIMBLEY' AS who"))
    thread.start()
    try:
        content = ""
        for _ in range(50):
            page = client.get(reverse("admin:ops_activity"))
            assert page.status_code == 200
            content = page.content.decode()
            if "pg_sleep" in content:
                break
            time.sleep(0.05)
        assert "pg_sleep" in content and "QUIMBLEY" not in content
    finally:
        thread.join(5)


def test_without_pg_stat_statements_statements_are_still_normalized(raw_connect, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # As if the extension were missing (the app role may not drop it): its function is not there.
    monkeypatch.setattr(
        activity, "_NORMALIZED", activity._NORMALIZED.replace("pg_stat_statements(", "ops_no_pgss(")
    )
    session = raw_connect()
    pid = session.info.backend_pid
    thread = threading.Thread(
        target=lambda: session.execute("SELECT pg_sleep(1.5), 'FRYE 900-12-3456' AS who")
    )
    thread.start()
    try:
        running = []
        for _ in range(50):
            running = [b for b in activity.backends(literals=False) if b.pid == pid and b.state == "active"]
            if running:
                break
            time.sleep(0.05)
        assert running and "pg_sleep" in running[0].query and "FRYE" not in running[0].query
        assert run("SELECT 1") == [(1,)]  # the caller's transaction is still usable
    finally:
        thread.join(5)
