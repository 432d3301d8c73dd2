"""The index advisor on field document 003's case: an index whose leading column is not the filtered one."""

from __future__ import annotations

import pytest
from django.db import transaction

from ops import advisor, pg_stats
from ops.platform.plans import iter_nodes
from ops.tests.conftest import run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("app_may_create")]

QUERY = "SELECT id, b FROM ops_advisor_t WHERE a = $1"


@pytest.fixture
def scratch() -> None:
    """200,000 rows; the only index leads with b, and the query filters on a."""
    run(
        "CREATE TABLE ops_advisor_t AS "
        "SELECT g AS id, g % 1000 AS a, (g * 7) % 50000 AS b FROM generate_series(1, 200000) g"
    )
    run("CREATE INDEX ops_advisor_t_b_a ON ops_advisor_t (b, a)")
    run("ANALYZE ops_advisor_t")


def test_the_index_led_by_another_column_does_not_serve_the_filter(scratch: None) -> None:
    with transaction.atomic():
        plan = advisor.generic_plan(QUERY)
    # Either a sequential scan, or the whole (b, a) index read with a as a non-leading condition: no index
    # whose first column is a is used, and the estimated cost is that of reading everything.
    assert not {n.get("Index Name") for n in iter_nodes(plan)} - {None, "ops_advisor_t_b_a"}
    assert plan["Total Cost"] > 1000


def test_advisor_proposes_the_filtered_column_with_at_least_half_saved(scratch: None) -> None:
    advice = advisor.advise_statement(QUERY)
    assert advice.skipped == ""
    assert advice.suggestions, advice
    best = advice.suggestions[0]
    assert best.table == "ops_advisor_t" and best.columns[0] == "a"
    assert best.saving is not None and best.saving >= 0.5
    assert best.create_sql.startswith("CREATE INDEX CONCURRENTLY ") and '("a"' in best.create_sql
    # Nothing was built, and no hypothetical index is left behind.
    assert run("SELECT count(*) FROM pg_indexes WHERE tablename = 'ops_advisor_t'") == [(1,)]


def test_advisor_works_from_pg_stat_statements(scratch: None) -> None:
    # pg_stat_statements is not transactional: earlier runs' scratch tables (other OIDs) left their own
    # entries for the same text. Start this test database's statistics afresh.
    run(
        "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)"
    )
    for value in (1, 2, 3):
        run(f"SELECT id, b FROM ops_advisor_t WHERE a = {value}")  # normalized to a = $1
    (row,) = [
        r for r in pg_stats.slow_queries(limit=100_000, min_calls=3) if "ops_advisor_t WHERE a" in r.query
    ]
    assert "$1" in row.query
    advice = advisor.advise_statement(row.query, calls=row.calls, total_ms=row.total_ms)
    assert [s.columns for s in advice.suggestions][0] == ("a",)


def test_no_suggestion_when_an_existing_index_covers_the_predicate(scratch: None) -> None:
    run("CREATE INDEX ops_advisor_t_a_id ON ops_advisor_t (a, id)")
    run("ANALYZE ops_advisor_t")
    advice = advisor.advise_statement(QUERY)
    assert advice.suggestions == ()


def test_without_hypopg_the_heuristic_names_the_sequentially_scanned_table(scratch: None) -> None:
    run("DROP INDEX ops_advisor_t_b_a")
    advice = advisor.advise_statement(QUERY, use_hypopg=False)
    assert advice.seq_scans == ("ops_advisor_t",)
    (suggestion,) = advice.suggestions
    assert suggestion.columns == ("a",) and suggestion.saving is None and "heuristic" in suggestion.note


def test_utility_and_catalog_statements_are_skipped() -> None:
    assert advisor.parse_statement('COPY "claims_claim" ("id") FROM STDIN')[1] == "utility statement"
    assert advisor.parse_statement("SELECT relname FROM pg_class WHERE oid = $1")[1] == "catalog query"
    assert advisor.advise_statement("REFRESH MATERIALIZED VIEW x").skipped == "utility statement"


def test_candidates_put_equality_columns_before_range_and_order() -> None:
    import sqlglot

    tree = sqlglot.parse_one(
        "SELECT * FROM t WHERE t.s = $1 AND t.d >= $2 ORDER BY t.d DESC", read="postgres"
    )
    columns = advisor.predicate_columns(tree, {"t": {"s", "d", "x"}})["t"]
    assert columns.equality == ["s"] and columns.ranges == ["d"] and columns.order == ["d"]
    assert advisor.candidate_indexes(columns)[:2] == [("s",), ("s", "d")]
    assert advisor.covered(("s",), [("s", "d")]) and not advisor.covered(("d",), [("s", "d")])


def test_advise_reports_on_the_top_statements() -> None:
    report = advisor.advise(limit=3)
    assert report.hypopg  # scripts/services.sh installs postgresql-15-hypopg
    assert len(report.statements) <= 3


@pytest.mark.django_db
def test_a_range_on_the_partition_key_is_left_to_partition_pruning() -> None:
    # The generic plan cannot prune, so without this rule HypoPG credits an index on service_date_from with
    # nearly the whole table's cost (seen on the 1,000,000-claim database).
    advice = advisor.advise_statement(
        "SELECT count(*) FROM claims_claim WHERE service_date_from >= $1::date AND service_date_from < $2::date"
    )

    assert not advice.skipped
    assert [s.columns for s in advice.suggestions if s.columns[0] == "service_date_from"] == []
