"""Index advisor: candidate indexes for the slowest statements, costed with HypoPG hypothetical indexes.

For each statement (the slowest of pg_stat_statements, or one passed in):

1. It is parsed with sqlglot (PostgreSQL dialect). Utility statements (COPY, REFRESH, DDL, ...) and the
   platform's own catalog queries (pg_catalog, pg_stat_*, information_schema) are skipped.
2. Candidate indexes are built per table from the columns compared to a value in WHERE (equality first, then
   one range column), JOIN ... ON columns and ORDER BY columns. A candidate is dropped when an existing valid
   index of the table already starts with the same columns (it would add nothing the planner cannot use).
3. Each candidate is costed: the statement's generic plan is EXPLAINed before and after
   ``hypopg_create_index`` (HypoPG makes the planner see an index that does not exist; it is session-local
   and nothing is built). Only candidates that cut the plan's estimated total cost by at least half are kept.

How a normalized statement (``WHERE status = $1``) is EXPLAINed on PostgreSQL 15, which has no
``EXPLAIN (GENERIC_PLAN)`` (added in 16): ``PREPARE`` it with untyped parameters (PostgreSQL infers their types
from the context), ``SET LOCAL plan_cache_mode = force_generic_plan`` and ``EXPLAIN EXECUTE`` it with NULL for
every parameter. The generic plan does not look at the values, so the NULLs only satisfy the parameter count,
and its estimates use the column statistics' average selectivity, which is what a typical call gets. The
statement is DEALLOCATEd after each EXPLAIN so the next one is planned afresh (a cached generic plan would not
notice a new hypothetical index). A statement whose parameter types cannot be inferred is reported as skipped.

Without HypoPG (``postgresql-15-hypopg`` not installed; scripts/services.sh installs it) the advisor falls back
to a heuristic: a candidate is proposed when the current plan reads its table with a sequential scan that
filters rows, with no estimated saving, and the result says it is a heuristic.

Everything runs in one transaction that is rolled back, so ``CREATE EXTENSION IF NOT EXISTS hypopg`` (when
the extension is available but not created) leaves nothing behind either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlglot
from django.db import DatabaseError, connections, transaction
from psycopg import sql
from sqlglot import exp

from ops.pg_stats import SCHEMA, PgStatStatementsUnavailable, slow_queries
from ops.platform.plans import generic_plan_document, iter_nodes

# sqlglot logs a warning for every statement it only keeps as an opaque Command (CREATE EXTENSION, ...): those
# are skipped anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# A suggestion must at least halve the plan's estimated total cost.
MIN_SAVING = 0.5
# Candidate indexes costed per statement, at most (each costs two planner runs).
MAX_CANDIDATES = 8
STATEMENT_TIMEOUT_MS = 5_000
# Statements that read these are the platform's own monitoring, not the application's.
CATALOG_PREFIXES = ("pg_", "information_schema", "hypopg")
RANGE_COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
EQUALITY_COMPARISONS = (exp.EQ, exp.In, exp.Is)


@dataclass(frozen=True)
class Suggestion:
    """One index to create, with the plan's estimated total cost before and after (planner cost units)."""

    table: str
    columns: tuple[str, ...]
    create_sql: str  # ready to run; CONCURRENTLY except on a partitioned parent (PostgreSQL refuses it there)
    cost_before: float | None
    cost_after: float | None
    note: str = ""

    @property
    def saving(self) -> float | None:
        """Fraction of the estimated cost saved (0.9 = 90 % cheaper); None for a heuristic suggestion."""
        if self.cost_before is None or self.cost_after is None or self.cost_before <= 0:
            return None
        return 1 - self.cost_after / self.cost_before


@dataclass(frozen=True)
class StatementAdvice:
    query: str
    calls: int | None
    total_ms: float | None
    cost: float | None  # estimated total cost of the current generic plan
    seq_scans: tuple[str, ...]  # tables the current plan reads sequentially
    suggestions: tuple[Suggestion, ...]
    skipped: str = ""  # why no advice was attempted (utility statement, catalog query, parse error, ...)


@dataclass(frozen=True)
class AdvisorReport:
    hypopg: bool  # costs come from hypothetical indexes; False: heuristic fallback
    message: str  # what the reader must know (HypoPG missing, pg_stat_statements unavailable)
    statements: list[StatementAdvice] = field(default_factory=list)


# --- parsing ----------------------------------------------------------------------------------------------------


@dataclass
class _Columns:
    equality: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)


def _add(target: list[str], column: str) -> None:
    if column not in target:
        target.append(column)


def _is_value(node: exp.Expression | None) -> bool:
    """A parameter, literal or NULL (possibly cast): what a normalized statement compares columns to."""
    while isinstance(node, exp.Cast | exp.Paren):
        node = node.this
    return isinstance(node, exp.Parameter | exp.Placeholder | exp.Literal | exp.Null | exp.Tuple) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)
    )


def _column(node: exp.Expression | None) -> exp.Column | None:
    while isinstance(node, exp.Cast | exp.Paren):
        node = node.this
    return node if isinstance(node, exp.Column) else None


def statement_tables(tree: exp.Expression) -> dict[str, str]:
    """Alias (or name) -> table name for every table the statement reads."""
    tables: dict[str, str] = {}
    for table in tree.find_all(exp.Table):
        tables[table.alias_or_name] = table.name
        tables[table.name] = table.name
    return tables


def _is_utility(tree: exp.Expression) -> bool:
    return not isinstance(tree, exp.Select | exp.Union | exp.Update | exp.Delete) or isinstance(
        tree, exp.Command
    )


def parse_statement(query: str) -> tuple[exp.Expression | None, str]:
    """Parse one statement; (None, reason) for what the advisor skips."""
    if "OPERATOR(pg_catalog." in query:
        # Foreign-key checks PostgreSQL's RI triggers run on their own; no index of ours changes them.
        return None, "internal statement"
    try:
        trees = sqlglot.parse(query, read="postgres")
    except sqlglot.errors.SqlglotError as error:
        return None, f"not parsed: {str(error).splitlines()[0]}"
    if len(trees) != 1 or trees[0] is None:
        return None, "not a single statement"
    tree = trees[0]
    if not isinstance(tree, exp.Expression) or _is_utility(tree):
        return None, "utility statement"
    names = {table.name for table in tree.find_all(exp.Table)}
    if not names:
        return None, "reads no table"
    if any(
        name.startswith(CATALOG_PREFIXES) or table.db in ("pg_catalog", "information_schema")
        for table in tree.find_all(exp.Table)
        for name in [table.name]
    ):
        return None, "catalog query"
    return tree, ""


def _resolve(column: exp.Column, aliases: dict[str, str], table_columns: dict[str, set[str]]) -> str | None:
    """The table a column belongs to: its qualifier's table, else the one table (of those read) that has it."""
    if column.table:
        return aliases.get(column.table)
    owners = [table for table in set(aliases.values()) if column.name in table_columns.get(table, set())]
    return owners[0] if len(owners) == 1 else None


def predicate_columns(tree: exp.Expression, table_columns: dict[str, set[str]]) -> dict[str, _Columns]:
    """Per table: columns compared to values (equality, range), join columns and ORDER BY columns."""
    aliases = statement_tables(tree)
    found: dict[str, _Columns] = {}

    def note(column: exp.Column | None, kind: str) -> None:
        if column is None:
            return
        table = _resolve(column, aliases, table_columns)
        if table is None or column.name not in table_columns.get(table, set()):
            return
        _add(getattr(found.setdefault(table, _Columns()), kind), column.name)

    for where in tree.find_all(exp.Where):
        for comparison in where.find_all(*EQUALITY_COMPARISONS, *RANGE_COMPARISONS, exp.Like):
            kind = "ranges" if isinstance(comparison, RANGE_COMPARISONS + (exp.Like,)) else "equality"
            left, right = comparison.this, comparison.args.get("expression")
            if isinstance(comparison, exp.In | exp.Between):
                note(_column(left), kind)
            elif _is_value(right):
                note(_column(left), kind)
            elif _is_value(left):
                note(_column(right), kind)
            elif _column(left) is not None and _column(right) is not None:
                note(_column(left), "joins")
                note(_column(right), "joins")
    for join in tree.find_all(exp.Join):
        on = join.args.get("on")
        if on is not None:
            for eq in on.find_all(exp.EQ):
                note(_column(eq.this), "joins")
                note(_column(eq.expression), "joins")
            for comparison in on.find_all(exp.EQ):
                if _is_value(comparison.expression):
                    note(_column(comparison.this), "equality")
    for order in tree.find_all(exp.Order):
        for ordered in order.expressions:
            note(_column(ordered.this), "order")
    return found


def candidate_indexes(columns: _Columns) -> list[tuple[str, ...]]:
    """Column lists to try, most selective shapes first: equality columns, then one range or the ORDER BY."""
    candidates: list[tuple[str, ...]] = []

    def add(cols: Iterable[str]) -> None:
        key = tuple(dict.fromkeys(cols))
        if key and key not in candidates:
            candidates.append(key)

    eq = columns.equality
    for column in eq:
        add([column])
    for column in columns.ranges:
        add([*eq, column])
        add([column])
    if columns.order:
        add([*eq, *columns.order])
    if len(eq) > 1:
        add(eq)
    for column in columns.joins:
        add([column])
    return candidates[:MAX_CANDIDATES]


# --- catalog and planner ----------------------------------------------------------------------------------------


def _table_info(
    tables: Iterable[str], *, using: str
) -> dict[str, tuple[str, set[str], list[tuple[str, ...]]]]:
    """Per public table: relkind, its columns, and the key columns of each valid index (expressions as '')."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relkind::text,
                   ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0
                         AND NOT attisdropped),
                   ARRAY(SELECT array_to_string(ARRAY(
                              SELECT COALESCE(a.attname, '')
                              FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                              LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                              WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord), ',')
                         FROM pg_index ix WHERE ix.indrelid = c.oid AND ix.indisvalid AND ix.indpred IS NULL)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'm')
            """,
            [SCHEMA, sorted(set(tables))],
        )
        return {
            name: (kind, set(columns), [tuple(key.split(",")) for key in keys])
            for name, kind, columns, keys in cursor.fetchall()
        }


def _partition_keys(tables: Iterable[str], *, using: str) -> dict[str, set[str]]:
    """Partition key columns of the partitioned tables among ``tables`` (pg_partitioned_table.partattrs)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, ARRAY(
                SELECT a.attname FROM unnest(pt.partattrs::int2[]) AS k(attnum)
                JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum)
            FROM pg_partitioned_table pt
            JOIN pg_class c ON c.oid = pt.partrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = ANY(%s)
            """,
            [SCHEMA, sorted(set(tables))],
        )
        return {name: set(keys) for name, keys in cursor.fetchall()}


def covered(candidate: tuple[str, ...], existing: Sequence[tuple[str, ...]]) -> bool:
    """An existing index whose key starts with the candidate's columns already serves it."""
    return any(index[: len(candidate)] == candidate for index in existing)


def hypopg_available(*, using: str = "default") -> bool:
    """Whether HypoPG can be used: created already, or created now when the server has it.

    In a read-only session (a replica, ``default_transaction_read_only``) it is not created: heuristic mode.
    The caller's transaction decides whether a created extension stays (:func:`advise` rolls back).
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'hypopg'),"
            " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'),"
            " current_setting('transaction_read_only') = 'on'"
        )
        created, available, read_only = cursor.fetchone()
        if created:
            return True
        if not available or read_only:
            return False
        cursor.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    return True


def generic_plan(query: str, *, using: str = "default") -> dict[str, Any]:
    """The generic plan (EXPLAIN FORMAT JSON "Plan" node) of ``query``, which may hold $n parameters
    (``ops.platform.plans.generic_plan_document``). Raises psycopg.Error from PREPARE."""
    return dict(generic_plan_document(query, using=using)[0]["Plan"])


def _seq_scanned(plan: dict[str, Any], parents: dict[str, str]) -> set[str]:
    return {
        str(parents.get(node["Relation Name"], node["Relation Name"]))
        for node in iter_nodes(plan)
        if node["Node Type"] == "Seq Scan" and "Relation Name" in node
    }


def _partition_parents(plan: dict[str, Any], *, using: str) -> dict[str, str]:
    names = sorted({node["Relation Name"] for node in iter_nodes(plan) if "Relation Name" in node})
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, p.relname FROM pg_class c
            JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent
            WHERE c.relname = ANY(%s) AND c.relkind = 'r'
            """,
            [names],
        )
        return dict(cursor.fetchall())


def _create_sql(table: str, kind: str, columns: tuple[str, ...]) -> tuple[str, str]:
    name = f"{table}_{'_'.join(columns)}_idx"[:63]
    cols = ", ".join(sql.Identifier(c).as_string(None) for c in columns)  # type: ignore[arg-type]
    target = sql.Identifier(table).as_string(None)  # type: ignore[arg-type]
    if kind == "p":
        # CREATE INDEX CONCURRENTLY is refused on a partitioned parent (STACK.md).
        return (
            f"CREATE INDEX {name} ON ONLY {target} ({cols});",
            "partitioned table: then CREATE INDEX CONCURRENTLY on each partition and "
            "ALTER INDEX ... ATTACH PARTITION each (or declare it in the model's Meta and migrate)",
        )
    return f"CREATE INDEX CONCURRENTLY {name} ON {target} ({cols});", ""


def _hypothetical_cost(query: str, table: str, columns: tuple[str, ...], *, using: str) -> float:
    cols = ", ".join(sql.Identifier(c).as_string(None) for c in columns)  # type: ignore[arg-type]
    ddl = f"CREATE INDEX ON {sql.Identifier(SCHEMA, table).as_string(None)} ({cols})"  # type: ignore[arg-type]
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # Hypothetical indexes are not transactional: clear any left by a failed run first.
        cursor.execute("SELECT hypopg_reset()")
        cursor.execute("SELECT indexrelid FROM hypopg_create_index(%s)", [ddl])
        cost = float(generic_plan(query, using=using)["Total Cost"])
        cursor.execute("SELECT hypopg_reset()")
    return cost


def advise_statement(
    query: str,
    *,
    calls: int | None = None,
    total_ms: float | None = None,
    use_hypopg: bool | None = None,
    using: str = "default",
) -> StatementAdvice:
    """Advice for one statement (see the module docstring). Runs inside a savepoint that is rolled back.

    ``use_hypopg=None`` uses HypoPG when the server has it; False forces the heuristic.
    """

    def skipped(reason: str) -> StatementAdvice:
        return StatementAdvice(query, calls, total_ms, None, (), (), skipped=reason)

    tree, reason = parse_statement(query)
    if tree is None:
        return skipped(reason)
    info = _table_info(statement_tables(tree).values(), using=using)
    if not info:
        return skipped("reads no table of the public schema")
    columns = predicate_columns(tree, {name: cols for name, (_, cols, _) in info.items()})
    if not columns:
        return skipped("no column in WHERE, JOIN or ORDER BY to index")
    try:
        with transaction.atomic(using=using):
            if use_hypopg is None:
                use_hypopg = hypopg_available(using=using)
            with connections[using].cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [str(STATEMENT_TIMEOUT_MS)]
                )
            plan = generic_plan(query, using=using)
            before = float(plan["Total Cost"])
            seq = _seq_scanned(plan, _partition_parents(plan, using=using))
            suggestions = []
            partition_keys = _partition_keys(columns, using=using)
            for table, cols in columns.items():
                kind, _, existing = info[table]
                for candidate in candidate_indexes(cols):
                    if covered(candidate, existing):
                        continue
                    # A range on the partition key is served by partition pruning, not an index; the generic
                    # plan (parameters unknown) cannot prune, so HypoPG would credit such an index wrongly.
                    if candidate[0] in partition_keys.get(table, set()):
                        continue
                    create, note = _create_sql(table, kind, candidate)
                    if use_hypopg:
                        try:
                            after = _hypothetical_cost(query, table, candidate, using=using)
                        except (DatabaseError, psycopg.Error):
                            continue  # e.g. HypoPG refusing a table kind it does not support
                        if after > before * (1 - MIN_SAVING):
                            continue
                        suggestions.append(Suggestion(table, candidate, create, before, after, note))
                    elif (
                        table in seq
                        and (cols.equality or cols.ranges)
                        and candidate[0] in (cols.equality + cols.ranges)
                    ):
                        heuristic = "heuristic (no HypoPG): the plan reads this table sequentially"
                        suggestions.append(
                            Suggestion(
                                table,
                                candidate,
                                create,
                                None,
                                None,
                                "; ".join(filter(None, [heuristic, note])),
                            )
                        )
                        break
            transaction.set_rollback(True, using=using)
    except (DatabaseError, psycopg.Error, ValueError) as error:
        return skipped(f"not planned: {str(error).splitlines()[0]}")
    best = sorted(
        suggestions, key=lambda s: (s.cost_after if s.cost_after is not None else 0, len(s.columns))
    )
    return StatementAdvice(query, calls, total_ms, before, tuple(sorted(seq)), tuple(best[:3]))


def advise(*, limit: int = 10, using: str = "default") -> AdvisorReport:
    """Advice for the ``limit`` statements with the most total time, in one rolled-back transaction."""
    with transaction.atomic(using=using):
        hypopg = hypopg_available(using=using)
        message = (
            ""
            if hypopg
            else (
                "HypoPG is not available on this server (Debian: postgresql-15-hypopg, installed by "
                "scripts/services.sh): suggestions are heuristic, without estimated savings."
            )
        )
        try:
            # Fetch more than asked: utility and catalog statements are skipped.
            top = slow_queries(order_by="total", limit=limit * 5, using=using)
        except PgStatStatementsUnavailable as error:
            transaction.set_rollback(True, using=using)
            return AdvisorReport(hypopg, f"{message}\n{error}".strip())
        statements = []
        for row in top:
            if parse_statement(row.query)[0] is None:
                continue
            advice = advise_statement(
                row.query, calls=row.calls, total_ms=row.total_ms, use_hypopg=hypopg, using=using
            )
            if advice.skipped.startswith(("reads no table", "no column")):
                continue  # e.g. the advisor's own hypopg calls, COUNT(*) of a whole table
            statements.append(advice)
            if len(statements) == limit:
                break
        transaction.set_rollback(True, using=using)
    return AdvisorReport(hypopg, message, statements)
