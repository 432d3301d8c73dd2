"""EXPLAIN (ANALYZE, BUFFERS) of a pasted query, safely: read-only, time-limited, one statement, rolled back.

The statement runs in a transaction (a savepoint when the caller already has one) that is made read-only with
``SET TRANSACTION READ ONLY`` and limited by ``SET LOCAL statement_timeout``, and is always rolled back. A
statement that writes fails with PostgreSQL's own "cannot execute ... in a read-only transaction"
(SQLSTATE 25006), reported as :class:`ExplainRefused`. Only superusers reach this (ops/admin.py): EXPLAIN
ANALYZE runs the query, and a read can still be expensive or reveal any table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg.errors
import sqlglot
from django.db import DatabaseError, connections, transaction

from ops.platform.plans import iter_nodes

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
    query: str, *, timeout_ms: int = STATEMENT_TIMEOUT_MS, using: str = "default"
) -> ExplainResult:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) one pasted statement, read-only and rolled back.

    Raises :class:`ExplainRefused` for several statements, a write (read-only transaction), a timeout or any
    other error PostgreSQL reports, with its message.
    """
    text = single_statement(query)
    try:
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)])
            # A pasted statement is the input here by design; it is sent as one statement (the extended
            # protocol, because of the empty parameter list, refuses several) in a read-only transaction.
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {text}", [])
            (document,) = cursor.fetchone()
            transaction.set_rollback(True, using=using)
    except DatabaseError as error:
        cause = error.__cause__
        if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction):
            raise ExplainRefused(
                f"Refused: the statement writes, and EXPLAIN here is read-only ({cause})."
            ) from error
        if isinstance(cause, psycopg.errors.QueryCanceled):
            raise ExplainRefused(f"Stopped after {timeout_ms / 1000:g} s (statement_timeout).") from error
        raise ExplainRefused(f"PostgreSQL refused it: {cause or error}") from error
    entry = document[0]
    plan = entry["Plan"]
    return ExplainResult(
        plan=plan,
        planning_ms=float(entry.get("Planning Time", 0)),
        execution_ms=float(entry.get("Execution Time", 0)),
        tree=render_tree(plan),
        findings=findings(plan, using=using),
    )
