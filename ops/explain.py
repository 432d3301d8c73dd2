"""EXPLAIN (ANALYZE, BUFFERS) of a pasted query, safely: read-only, time-limited, one statement, rolled back.

The statement runs in a transaction (a savepoint when the caller already has one) that is made read-only with
``SET TRANSACTION READ ONLY`` and limited by ``SET LOCAL statement_timeout``, and is always rolled back. A
statement that writes fails with PostgreSQL's own "cannot execute ... in a read-only transaction"
(SQLSTATE 25006), reported as :class:`ExplainRefused`. Only superusers reach this (ops/admin.py): EXPLAIN
ANALYZE runs the query, and a read can still be expensive.

It runs on the ``reporting`` connection (``settings.EXPLAIN_DATABASE``): the read-only reporting role, not a
superuser, so server files (``pg_read_file``, ``pg_ls_dir``), ``lo_export``, ``pg_reload_conf`` and other
sessions' backends are out of its reach, and the PII table is not granted to it (ops/platform/roles.py).
PostgreSQL's message is shown with its quoted values masked: a cast error would otherwise echo a value read
from a table ("invalid input syntax for type integer: ...").

A statement with ``$1``-style parameters (as Slow queries shows pg_stat_statements' normalized text) gets the
generic plan: ``PREPARE`` then ``EXPLAIN EXECUTE`` with NULLs under ``plan_cache_mode = force_generic_plan``
(PostgreSQL 15 has no ``EXPLAIN (GENERIC_PLAN)``; docs "PREPARE", "plan_cache_mode"), not run, so no actual
rows or times. The statement text goes to the server as it is, with no client-side parameter parsing, so
``LIKE 'A%'`` is plain SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg.errors
import sqlglot
from django.conf import settings
from django.db import DatabaseError, connections, transaction

from ops.platform.binding import bound_cursor
from ops.platform.plans import generic_plan_document, iter_nodes, parameter_count

STATEMENT_TIMEOUT_MS = 5_000
# A sequential scan of a table with at least this many rows (reltuples) is worth a look.
LARGE_TABLE_ROWS = 10_000
# Planner estimate off by this factor or more (either way) is a finding.
ESTIMATE_ERROR_FACTOR = 10


class ExplainRefused(Exception):
    """The statement was not explained; ``str()`` says why in words for the page."""


@dataclass(frozen=True)
class Finding:
    kind: str  # "seq scan on large table", "row estimate", "sort spilled to disk", "hash batches"
    node: str  # the node's one-line label
    detail: str


@dataclass(frozen=True)
class ExplainResult:
    plan: dict[str, Any]  # EXPLAIN's "Plan" node
    planning_ms: float
    execution_ms: float
    tree: str  # indented, one node a line
    findings: list[Finding]
    generic: bool = False  # a generic plan of a $1 statement: estimated only, not run


# Double-quoted parts of PostgreSQL's messages: identifiers, and values (a failed cast quotes the value it read).
_MESSAGE_QUOTED = re.compile(r'"[^"]*"')


def explain_database() -> str:
    """The connection alias EXPLAIN runs on (``settings.EXPLAIN_DATABASE``, the reporting role)."""
    return str(getattr(settings, "EXPLAIN_DATABASE", "reporting"))


def masked_message(error: psycopg.Error) -> str:
    """PostgreSQL's primary message with every double-quoted part masked (values and names alike), and the
    SQLSTATE: what went wrong, never a value the statement read."""
    primary = _MESSAGE_QUOTED.sub('"…"', error.diag.message_primary or type(error).__name__)
    return f"{primary} (SQLSTATE {error.sqlstate or '?'})"


def single_statement(query: str) -> str:
    """The one statement in ``query`` without a trailing semicolon; ExplainRefused for none or several."""
    text = query.strip().rstrip(";").strip()
    if not text:
        raise ExplainRefused("Paste one SQL statement.")
    try:
        statements = [s for s in sqlglot.parse(text, read="postgres") if s is not None]
    except sqlglot.errors.SqlglotError:
        # sqlglot does not know every PostgreSQL construct; the server's extended protocol below refuses
        # several statements anyway ("cannot insert multiple commands into a prepared statement").
        statements = [text]  # type: ignore[list-item]
    if len(statements) != 1:
        raise ExplainRefused(f"Only a single statement is accepted; this holds {len(statements)}.")
    return text


def _label(node: dict[str, Any]) -> str:
    parts = [("Parallel " if node.get("Parallel Aware") else "") + node["Node Type"]]
    if "Index Name" in node:
        parts.append(f"using {node['Index Name']}")
    if "Relation Name" in node:
        parts.append(f"on {node['Relation Name']}")
    return " ".join(parts)


def render_tree(plan: dict[str, Any], depth: int = 0) -> str:
    """One line a node: label, estimated vs actual rows, time (ms, all loops), buffers, then its details."""
    loops = plan.get("Actual Loops", 1) or 1
    line = (
        f"{'  ' * depth}-> {_label(plan)}  (est rows {plan.get('Plan Rows', '?')}, "
        f"actual rows {plan.get('Actual Rows', '?')} x {loops} loops, "
        f"{float(plan.get('Actual Total Time', 0)) * loops:.2f} ms, "
        f"buffers hit {plan.get('Shared Hit Blocks', 0)} read {plan.get('Shared Read Blocks', 0)})"
    )
    lines = [line]
    for key in ("Index Cond", "Filter", "Hash Cond", "Join Filter", "Sort Key", "Sort Method"):
        if key in plan:
            lines.append(f"{'  ' * depth}     {key}: {plan[key]}")
    lines.extend(render_tree(child, depth + 1) for child in plan.get("Plans", ()))
    return "\n".join(lines)


def _table_rows(names: set[str], *, using: str) -> dict[str, float]:
    if not names:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
            [sorted(names)],
        )
        return {name: float(rows) for name, rows in cursor.fetchall()}


def findings(plan: dict[str, Any], *, using: str = "default") -> list[Finding]:
    """What deserves a look: large sequential scans, estimates off by 10x, sorts and hashes spilling to disk."""
    nodes = list(iter_nodes(plan))
    sizes = _table_rows({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}, using=using)
    found = []
    for node in nodes:
        label = _label(node)
        rows = sizes.get(node.get("Relation Name", ""), 0)
        if node["Node Type"] == "Seq Scan" and rows >= LARGE_TABLE_ROWS:
            found.append(
                Finding(
                    "seq scan on large table",
                    label,
                    f"reads every row of ~{rows:,.0f}; filter: {node.get('Filter', 'none')}",
                )
            )
        if "Actual Rows" in node and node.get("Actual Loops", 0) > 0:
            estimated, actual = max(float(node["Plan Rows"]), 1.0), max(float(node["Actual Rows"]), 1.0)
            factor = max(estimated / actual, actual / estimated)
            if factor >= ESTIMATE_ERROR_FACTOR:
                found.append(
                    Finding(
                        "row estimate",
                        label,
                        f"estimated {node['Plan Rows']:,} rows, got {node['Actual Rows']:,} per loop "
                        f"({factor:,.0f}x off): ANALYZE the table or add extended statistics",
                    )
                )
        if node.get("Sort Method") == "external merge" or node.get("Sort Space Type") == "Disk":
            found.append(
                Finding(
                    "sort spilled to disk",
                    label,
                    f"{node.get('Sort Method')} using {node.get('Sort Space Used', '?')} kB: raise work_mem "
                    "for this query or sort fewer rows (an index in sort order)",
                )
            )
        if int(node.get("Hash Batches", 1)) > 1:
            found.append(
                Finding("hash batches", label, f"hash split into {node['Hash Batches']} batches (work_mem)")
            )
    return found


def explain_query(
    query: str, *, timeout_ms: int = STATEMENT_TIMEOUT_MS, using: str | None = None
) -> ExplainResult:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) one pasted statement, read-only and rolled back, on ``using``
    (default ``explain_database()``); a statement with ``$n`` parameters gets its generic plan, not run.

    Raises :class:`ExplainRefused` for several statements, a write (read-only transaction), a timeout, a missing
    privilege or any other error PostgreSQL reports (its message masked, ``masked_message``).
    """
    text = single_statement(query)
    using = using or explain_database()
    parameters = parameter_count(text)
    try:
        with transaction.atomic(using=using), bound_cursor(using) as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)])
            # The pasted statement is the input here by design. No parameters are passed, so psycopg does not
            # parse it for placeholders (a '%' is plain SQL); binary results make psycopg use the extended
            # protocol even so, which refuses several statements in one string (the simple protocol would run
            # "SELECT 1; COMMIT; ..." statement by statement, the COMMIT ending the read-only transaction).
            if parameters:
                document = generic_plan_document(text, using=using)
            else:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {text}", binary=True)
                (document,) = cursor.fetchone() or (None,)
            transaction.set_rollback(True, using=using)
    except (psycopg.Error, DatabaseError) as error:
        # bound_cursor raises psycopg's errors, Django's cursor (the generic plan) wraps them.
        cause = error if isinstance(error, psycopg.Error) else error.__cause__
        if not isinstance(cause, psycopg.Error):
            raise ExplainRefused(f"PostgreSQL refused it ({type(error).__name__}).") from error
        if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction):
            raise ExplainRefused(
                f"Refused: the statement writes, and EXPLAIN here is read-only ({masked_message(cause)})."
            ) from cause
        if isinstance(cause, psycopg.errors.QueryCanceled):
            raise ExplainRefused(f"Stopped after {timeout_ms / 1000:g} s (statement_timeout).") from cause
        if isinstance(cause, psycopg.errors.InsufficientPrivilege):
            raise ExplainRefused(
                f"Refused: the reporting role may not do that ({masked_message(cause)})."
            ) from cause
        raise ExplainRefused(f"PostgreSQL refused it: {masked_message(cause)}") from cause
    entry = document[0]
    plan = entry["Plan"]
    return ExplainResult(
        plan=plan,
        planning_ms=float(entry.get("Planning Time", 0)),
        execution_ms=float(entry.get("Execution Time", 0)),
        tree=render_tree(plan),
        findings=findings(plan, using=using),
        generic=bool(parameters),
    )
