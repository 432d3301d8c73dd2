"""The reports of ops/pg_stats.py on real data planted in the test transaction (and, for counters, committed
by another connection: statistics are only flushed by a backend outside its transaction)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.tests.factories import ClaimFactory
from ops import pg_stats
from ops.tests.conftest import run
from tests.owner import admin_execute, dropped_index, owner_execute
from tests.pruning import EXTRA_MONTHS, many_months_added

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("app_may_create")]


@pytest.fixture
def planted_indexes() -> None:
    run("CREATE TABLE ops_idx_t AS SELECT g AS a, g % 7 AS b FROM generate_series(1, 20000) g")
    run("CREATE INDEX ops_idx_t_a ON ops_idx_t (a)")
    run("CREATE INDEX ops_idx_t_a_copy ON ops_idx_t (a)")
    run("CREATE INDEX ops_idx_t_a_b ON ops_idx_t (a, b)")
    run("CREATE UNIQUE INDEX ops_idx_t_a_uniq ON ops_idx_t (a)")
    run("CREATE INDEX ops_idx_t_b_partial ON ops_idx_t (b) WHERE b > 3")
    run("CREATE INDEX ops_idx_t_b ON ops_idx_t (b)")


def by_name(rows: list[pg_stats.IndexUsage]) -> dict[str, pg_stats.IndexUsage]:
    return {row.name: row for row in rows}


def test_slow_queries_lists_a_statement_run_three_times_with_its_figures() -> None:
    # pg_stat_statements groups statements by parse tree, where aliases do not count: read a table of our own.
    run("CREATE TABLE ops_slow_marker AS SELECT g AS n FROM generate_series(1, 5000) g")
    for _ in range(3):
        run("SELECT count(*) FROM ops_slow_marker WHERE n > %s", [10])
    rows = [r for r in pg_stats.slow_queries(limit=500, min_calls=3) if "ops_slow_marker" in r.query]
    assert len(rows) == 1
    row = rows[0]
    assert row.calls >= 3 and row.rows >= 3
    assert "$1" in row.query  # normalized
    assert row.total_ms >= row.mean_ms > 0
    assert pg_stats.slow_queries(limit=500, min_calls=10**9) == []
    calls = [r.calls for r in pg_stats.slow_queries(order_by="calls", limit=5)]
    assert calls == sorted(calls, reverse=True)


def test_slow_queries_not_preloaded_says_how_to_enable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same error class and message as reading the view without shared_preload_libraries.
    run(
        """
        CREATE FUNCTION ops_fake_pgss() RETURNS SETOF pg_stat_statements LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = '55000',
                MESSAGE = 'pg_stat_statements must be loaded via shared_preload_libraries';
        END $$
        """
    )
    run("CREATE VIEW ops_fake_pgss_view AS SELECT * FROM ops_fake_pgss()")
    monkeypatch.setattr(pg_stats, "STATEMENTS_RELATION", "ops_fake_pgss_view")
    with pytest.raises(pg_stats.PgStatStatementsUnavailable) as caught:
        pg_stats.slow_queries()
    message = str(caught.value)
    assert "not preloaded" in message and "shared_preload_libraries" in message
    assert "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" in message
    assert "restart" in message and "CREATE EXTENSION" in message
    assert run("SELECT 1") == [(1,)]  # the savepoint kept the transaction usable


def test_slow_queries_not_installed_says_how_to_enable(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the extension were missing: its view is not there (the app role may not drop the extension).
    monkeypatch.setattr(pg_stats, "STATEMENTS_RELATION", "ops_no_pg_stat_statements")
    with pytest.raises(pg_stats.PgStatStatementsUnavailable) as caught:
        pg_stats.slow_queries()
    assert "not installed" in str(caught.value)
    assert "CREATE EXTENSION" in caught.value.how_to_enable


def test_reset_empties_this_databases_statements() -> None:
    run("CREATE TABLE ops_reset_marker (n int)")
    run("SELECT count(*) FROM ops_reset_marker")
    assert any("ops_reset_marker" in r.query for r in pg_stats.slow_queries(limit=100_000))
    pg_stats.reset_pg_stat_statements()
    assert not any("ops_reset_marker" in r.query for r in pg_stats.slow_queries(limit=100_000))


def test_unused_duplicate_and_redundant_indexes_are_reported(planted_indexes: None) -> None:
    usage = pg_stats.index_usage()
    unused = {i.name for i in pg_stats.unused_indexes(usage, min_size_bytes=100_000)}
    assert {"ops_idx_t_a", "ops_idx_t_a_copy", "ops_idx_t_a_b"} <= unused
    assert "ops_idx_t_a_uniq" not in unused  # enforces a constraint
    found = {
        (d.index, d.covered_by, d.kind) for d in pg_stats.duplicate_indexes(usage) if d.table == "ops_idx_t"
    }
    assert ("ops_idx_t_a_copy", "ops_idx_t_a", "duplicate") in found
    assert ("ops_idx_t_a", "ops_idx_t_a_b", "redundant") in found
    assert not any(index == "ops_idx_t_a_uniq" for index, _, _ in found)
    # A partial index does not cover a full one, nor the other way round.
    assert not any(
        "ops_idx_t_b" in (index, covered) and "partial" in index + covered for index, covered, _ in found
    )
    assert by_name(usage)["ops_idx_t_a"].size_bytes > 100_000


@pytest.mark.django_db(transaction=True)
def test_an_invalid_index_is_reported() -> None:
    # Committed, so the superuser's catalog write below (only it may write pg_index) sees the index.
    owner_execute(
        "CREATE TABLE ops_invalid_t AS SELECT g AS b FROM generate_series(1, 100) g",
        "CREATE INDEX ops_invalid_t_b ON ops_invalid_t (b)",
    )
    try:
        admin_execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ops_invalid_t_b'::regclass")
        assert [i.name for i in pg_stats.invalid_indexes(pg_stats.index_usage())] == ["ops_invalid_t_b"]
    finally:
        owner_execute("DROP TABLE ops_invalid_t")


def test_every_declared_index_exists_and_a_dropped_one_is_reported_missing() -> None:
    checks = {c.name: c for c in pg_stats.check_declared_indexes()}
    assert checks["claim_received_idx"].ok
    assert checks["claim_received_idx"].partitions > 1  # a partitioned table: every partition attached
    assert checks["claim_received_idx"].partitions_attached == checks["claim_received_idx"].partitions
    with dropped_index("claim_received_idx"):
        after = {c.name: c for c in pg_stats.check_declared_indexes()}
    assert not after["claim_received_idx"].exists and not after["claim_received_idx"].ok


def test_index_scans_on_a_partition_count_toward_the_parent_index(raw_connect) -> None:  # type: ignore[no-untyped-def]
    partition = f"claims_claim_p{dt.date.today():%Y_%m}"
    before = by_name(pg_stats.index_usage())["claim_received_idx"]
    assert before.partitions > 1
    other = raw_connect()
    other.execute("SET enable_seqscan = off")
    other.execute("SET enable_bitmapscan = off")
    for _ in range(3):
        other.execute(f"SELECT id FROM {partition} ORDER BY received_at DESC, id DESC LIMIT 1")
    other.close()  # a closing backend flushes its statistics
    for _ in range(30):
        after = by_name(pg_stats.index_usage())["claim_received_idx"]
        if after.scans >= before.scans + 3:
            break
        time.sleep(0.1)
    assert after.scans >= before.scans + 3


def test_a_row_in_a_default_partition_is_flagged() -> None:
    ClaimFactory(service_date_from=dt.date(2099, 1, 15))  # no monthly partition that far ahead
    parts = {p.name: p for p in pg_stats.partitions()}
    default = parts["claims_claim_default"]
    assert default.is_default and default.rows == 1 and default.rows_exact and default.flagged
    monthly = parts[f"claims_claim_p{dt.date.today():%Y_%m}"]
    assert monthly.bound.startswith("FOR VALUES FROM") and not monthly.flagged
    assert not parts["claims_claimline_default"].flagged


@pytest.fixture(scope="module")
def many_months(django_db_setup: None, django_db_blocker: Any) -> Iterator[int]:
    """Claim partitions in the database, ``EXTRA_MONTHS`` empty ones added for this module (tests/pruning.py)."""
    yield from many_months_added(django_db_blocker)


def test_partitions_are_read_in_one_catalog_statement_whatever_the_number_of_months(many_months: int) -> None:
    assert many_months >= EXTRA_MONTHS + 20
    ClaimFactory(service_date_from=dt.date(2099, 1, 15))  # a row in the claims' DEFAULT partition
    this_month = f"claims_claim_p{dt.date.today():%Y_%m}"
    owner_execute(f"ANALYZE {this_month}")  # analyzed (by another backend: the planted row is not seen)
    with CaptureQueriesContext(connection) as captured:
        parts = {p.name: p for p in pg_stats.partitions()}
    defaults = [p for p in parts.values() if p.is_default]
    # The catalog read, then a capped count of each DEFAULT partition (one per partitioned table); none per month.
    assert len(captured.captured_queries) == 1 + len(defaults), [
        q["sql"][:80] for q in captured.captured_queries
    ]
    assert not [q for q in captured.captured_queries if "_p20" in q["sql"]]
    assert sum(1 for name in parts if name.startswith("claims_claim_p")) == many_months - 1
    assert parts["claims_claim_default"].rows == 1 and parts["claims_claim_default"].flagged
    month = parts[this_month]
    assert (month.rows, month.rows_exact, month.analyzed) == (0, False, True)
    assert not parts["claims_claimline_p2001_01"].analyzed  # never analyzed: shown so, not as ~0


def test_tables_roll_partitions_up_and_skip_other_schemas() -> None:
    run("CREATE SCHEMA IF NOT EXISTS bench_baseline")
    run("CREATE TABLE bench_baseline.ops_hidden (a int)")
    tables = {t.name: t for t in pg_stats.table_stats()}
    assert "ops_hidden" not in tables
    claims = tables["claims_claim"]
    assert claims.kind == "partitioned"
    partitions = run("SELECT count(*) FROM pg_inherits WHERE inhparent = 'claims_claim'::regclass")[0][0]
    assert claims.partitions == partitions
    assert claims.total_bytes == claims.table_bytes + claims.index_bytes > 0
    assert not any(p.name == "ops_hidden" for p in pg_stats.partitions())
    ratio = pg_stats.database_cache_hit().ratio
    assert ratio is not None and 0 < ratio <= 1


def test_a_large_table_read_by_sequential_scans_is_a_missing_index_candidate() -> None:
    base = {
        "name": "t",
        "kind": "table",
        "partitions": 0,
        "table_bytes": 1,
        "index_bytes": 0,
        "total_bytes": 1,
        "dead_tuples": 0,
        "last_vacuum": None,
        "last_autovacuum": None,
        "last_analyze": None,
        "last_autoanalyze": None,
        "heap_hit": 9,
        "heap_read": 1,
    }
    big = pg_stats.TableStats(
        live_tuples=50_000, seq_scans=90, seq_tuples_read=4_500_000, index_scans=10, **base
    )
    small = pg_stats.TableStats(live_tuples=500, seq_scans=90, seq_tuples_read=45_000, index_scans=10, **base)
    assert big.missing_index_candidate and big.seq_scan_ratio == 0.9 and big.cache_hit_ratio == 0.9
    assert not small.missing_index_candidate


def test_connection_is_still_usable() -> None:
    assert connection.is_usable()


def test_the_platforms_connections_never_jit_compile_a_catalog_report(many_months: int) -> None:
    """JIT is off for the platform's connections (settings DATABASE_JIT): the index report's recursive CTE is
    estimated far above ``jit_above_cost`` (it compiled for 1.2 s at 1M claims) though it reads a few hundred
    catalog rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit_above_cost')::float8")
        (jit_above_cost,) = cursor.fetchone()
        cursor.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {pg_stats._INDEX_USAGE_SQL}", {"schema": pg_stats.SCHEMA}
        )
        (plan,) = cursor.fetchone()[0]
    assert plan["Plan"]["Total Cost"] > jit_above_cost  # the planner would have JIT-compiled it ...
    assert "JIT" not in plan  # ... and this connection did not
