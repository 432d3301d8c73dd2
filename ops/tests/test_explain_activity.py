"""EXPLAIN of a pasted query (read-only, one statement, findings) and live activity with a real lock wait."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from ops import activity, explain
from ops.tests.conftest import run

pytestmark = pytest.mark.django_db

LOCK_KEY = 770_001


@pytest.fixture
def table() -> None:
    # a and b are equal, so "a = 1 AND b = 1" matches 1 % of rows where the planner, multiplying, guesses 0.01 %.
    run(
        "CREATE TABLE ops_explain_t AS SELECT g % 100 AS a, g % 100 AS b, g AS c FROM generate_series(1, 30000) g"
    )
    run("ANALYZE ops_explain_t")


def test_explain_shows_a_tree_and_the_findings(table: None) -> None:
    result = explain.explain_query("SELECT * FROM ops_explain_t WHERE a = 1 AND b = 1;")
    assert "Seq Scan on ops_explain_t" in result.tree
    assert "actual rows 300" in result.tree
    kinds = {f.kind for f in result.findings}
    assert {"seq scan on large table", "row estimate"} <= kinds
    assert result.execution_ms > 0


def test_a_sort_spilling_to_disk_is_found(table: None) -> None:
    run("SET LOCAL work_mem = '64kB'")
    result = explain.explain_query("SELECT * FROM ops_explain_t ORDER BY c DESC, a")
    assert "sort spilled to disk" in {f.kind for f in result.findings}


def test_a_write_is_refused_as_read_only_and_nothing_changes(table: None) -> None:
    with pytest.raises(explain.ExplainRefused, match="read-only"):
        explain.explain_query("DELETE FROM ops_explain_t")
    assert run("SELECT count(*) FROM ops_explain_t") == [(30000,)]
    run("INSERT INTO ops_explain_t VALUES (1, 1, 1)")  # the test's own transaction is writable again


def test_only_one_statement_is_accepted() -> None:
    with pytest.raises(explain.ExplainRefused, match="single statement"):
        explain.explain_query("SELECT 1; SELECT 2")
    with pytest.raises(explain.ExplainRefused):
        explain.explain_query("   ")


def test_a_timeout_is_reported() -> None:
    with pytest.raises(explain.ExplainRefused, match="statement_timeout"):
        explain.explain_query("SELECT pg_sleep(2)", timeout_ms=100)


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
