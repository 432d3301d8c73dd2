"""What a plan did: one ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` summarised for the benchmark report.

The summary names the scan that did most of the work ("top scan"): scan nodes are grouped by kind and by the
table they read (partitions reported as their partitioned parent), and the group with the most shared buffers
(hit + read) wins; ties go to the group seen first in the plan. Partition and index names are mapped back to
their parents through ``pg_inherits`` (PostgreSQL docs, "pg_inherits"), resolved with the session's current
``search_path``, the same one the EXPLAIN ran under. tests/pgplan.py holds the equivalent helpers for tests.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections
from psycopg import sql

from ops.platform.binding import bound_cursor

PlanNode = dict[str, Any]

# Nodes that read a table's rows. Bitmap Index Scans are counted under their Bitmap Heap Scan.
SCAN_NODE_TYPES = frozenset(
    {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan", "Tid Range Scan"}
)


@dataclass(frozen=True)
class PlanSummary:
    """One executed plan, summarised. Buffer counts are 8 kB pages; times in ms as EXPLAIN reports them."""

    top_scan: str  # e.g. "Index Only Scan", "Parallel Seq Scan"; "none" when the plan reads no table
    top_scan_relation: str  # table of the top scan (a partition's parent), "" when none
    top_scan_indexes: tuple[str, ...]  # declared index names the top scan used
    scan_nodes: dict[str, int]  # scan kind -> executed nodes of that kind (a partition each)
    indexes: tuple[str, ...]  # every declared index the plan read
    partitions_scanned: int  # distinct partitions read at least once (0 for plain tables)
    partitions_by_table: dict[str, int]  # partitioned parent -> its partitions read
    shared_hit: int
    shared_read: int
    temp_blocks: int  # temp blocks read + written (sorts or hashes spilled past work_mem)
    execution_ms: float
    planning_ms: float

    def brief(self) -> str:
        """One line for the markdown table: scan, index, partitions, buffers."""
        scan = self.top_scan
        if self.top_scan_indexes:
            scan += f" ({', '.join(self.top_scan_indexes)})"
        if self.top_scan_relation:
            scan += f" on {self.top_scan_relation}"
        if self.partitions_by_table:
            parts = "partitions " + ", ".join(f"{table} {n}" for table, n in self.partitions_by_table.items())
        else:
            parts = "no partitions"
        return f"{scan}; {parts}; {self.shared_hit:,} hit / {self.shared_read:,} read"


def iter_nodes(plan: PlanNode) -> Iterator[PlanNode]:
    """Every node of the plan, depth first, the root included (InitPlans and SubPlans too)."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from iter_nodes(child)


# $1, $2 ... of a normalized statement; string literals and quoted identifiers are removed before the search.
_PARAMETER = re.compile(r"\$(\d+)")
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def parameter_count(query: str) -> int:
    """The highest ``$n`` placeholder in ``query`` (0 for none), ignoring quoted literals and identifiers."""
    return max((int(n) for n in _PARAMETER.findall(_QUOTED.sub("", query))), default=0)


def generic_plan_document(query: str, *, using: str = "default") -> list[dict[str, Any]]:
    """EXPLAIN (FORMAT JSON)'s document of the generic plan of ``query``, which may hold ``$n`` parameters; run
    it inside the caller's transaction (the plan_cache_mode setting is LOCAL to it).

    PostgreSQL 15 has no ``EXPLAIN (GENERIC_PLAN)`` (added in 16): ``PREPARE`` with untyped parameters (the server
    infers their types from the context), ``SET LOCAL plan_cache_mode = force_generic_plan``, ``EXPLAIN
    EXECUTE`` with NULL for every parameter (the generic plan ignores the values), ``DEALLOCATE`` (docs
    "PREPARE", "plan_cache_mode"). Nothing is executed. Raises psycopg.Error from PREPARE, e.g.
    IndeterminateDatatype when a parameter's type cannot be inferred.
    """
    count = parameter_count(query)
    # A new name each time: a prepared statement outlives a rolled-back transaction, so one left by a failed
    # EXPLAIN must not collide with the next.
    name = sql.Identifier(f"ops_generic_{uuid.uuid4().hex}")
    with bound_cursor(using) as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # The statement text is the one to plan: it is only planned, never executed, and PREPARE cannot take it
        # as a parameter. Sent by the extended protocol (binary=True with no parameters), so a string holding
        # several statements is refused ("cannot insert multiple commands into a prepared statement").
        cursor.execute(sql.SQL("PREPARE {} AS {}").format(name, sql.SQL(query)), binary=True)  # type: ignore[arg-type]
        args = sql.SQL("({})").format(sql.SQL(", ").join([sql.SQL("NULL")] * count)) if count else sql.SQL("")
        cursor.execute(sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}{}").format(name, args), binary=True)
        (document,) = cursor.fetchone() or (None,)
        cursor.execute(sql.SQL("DEALLOCATE {}").format(name), binary=True)
    return list(document)


def explain_analyze(sql: str, params: Mapping[str, Any], *, using: str = "default") -> dict[str, Any]:
    """Run ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` of ``sql`` and return the document's first entry.

    This executes the statement; only use it for reads. The entry has "Plan", "Planning Time" and
    "Execution Time" (ms), and "Planning" buffers.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        (raw,) = cursor.fetchone()
    # psycopg decodes json to Python; keep working if a text loader is registered for it.
    document = json.loads(raw) if isinstance(raw, str) else raw
    return dict(document[0])


@dataclass(frozen=True)
class _Relation:
    parent: str
    is_partition: bool


def _resolve(names: set[str], relkinds: tuple[str, ...], *, using: str) -> dict[str, _Relation]:
    """Map each relation name visible on the search path to its top-most ancestor and partition flag."""
    if not names:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE chain(start_name, oid, relname, depth, is_partition) AS (
                SELECT c.relname, c.oid, c.relname, 0, c.relispartition
                FROM pg_class c
                WHERE c.relname = ANY(%s) AND c.relkind = ANY(%s) AND pg_table_is_visible(c.oid)
                UNION ALL
                SELECT chain.start_name, p.oid, p.relname, chain.depth + 1, chain.is_partition
                FROM chain
                JOIN pg_inherits i ON i.inhrelid = chain.oid
                JOIN pg_class p ON p.oid = i.inhparent
            )
            SELECT DISTINCT ON (start_name) start_name, relname, is_partition
            FROM chain
            ORDER BY start_name, depth DESC
            """,
            [sorted(names), list(relkinds)],
        )
        return {name: _Relation(parent=parent, is_partition=flag) for name, parent, flag in cursor.fetchall()}


def _label(node: PlanNode) -> str:
    return f"Parallel {node['Node Type']}" if node.get("Parallel Aware") else str(node["Node Type"])


def _buffers(node: PlanNode) -> int:
    return int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


def _index_names(node: PlanNode) -> set[str]:
    """Indexes a scan node reads: its own, or its Bitmap Index Scans' (under BitmapAnd / BitmapOr too)."""
    return {n["Index Name"] for n in iter_nodes(node) if "Index Name" in n}


def summarize(document: Mapping[str, Any], *, using: str = "default") -> PlanSummary:
    """Summarise an ``explain_analyze`` document; runs two catalog lookups on the current search path."""
    plan: PlanNode = document["Plan"]
    scans = [
        node
        for node in iter_nodes(plan)
        if node["Node Type"] in SCAN_NODE_TYPES
        and "Relation Name" in node
        and node.get("Actual Loops", 0) > 0
    ]
    relations = _resolve({node["Relation Name"] for node in scans}, ("r", "p"), using=using)
    all_indexes = {
        name
        for node in iter_nodes(plan)
        if (name := node.get("Index Name")) and node.get("Actual Loops", 0) > 0
    }
    index_parents = {name: rel.parent for name, rel in _resolve(all_indexes, ("i", "I"), using=using).items()}

    groups: dict[tuple[str, str], int] = {}
    group_indexes: dict[tuple[str, str], set[str]] = {}
    for node in scans:
        relation = relations.get(node["Relation Name"], _Relation(node["Relation Name"], False))
        key = (_label(node), relation.parent)
        groups[key] = groups.get(key, 0) + _buffers(node)
        group_indexes.setdefault(key, set()).update(
            index_parents.get(name, name) for name in _index_names(node)
        )
    if groups:
        # max() keeps the first of equal values: dicts iterate in plan order.
        top = max(groups, key=lambda key: groups[key])
        top_scan, top_relation = top
        top_indexes = tuple(sorted(group_indexes[top]))
    else:
        top_scan, top_relation, top_indexes = "none", "", ()

    partitions = {
        (relation.parent, node["Relation Name"])
        for node in scans
        if (relation := relations.get(node["Relation Name"], _Relation("", False))).is_partition
    }
    return PlanSummary(
        top_scan=top_scan,
        top_scan_relation=top_relation,
        top_scan_indexes=top_indexes,
        scan_nodes=dict(sorted(Counter(_label(node) for node in scans).items())),
        indexes=tuple(sorted({index_parents.get(name, name) for name in all_indexes})),
        partitions_scanned=len(partitions),
        partitions_by_table=dict(sorted(Counter(parent for parent, _ in partitions).items())),
        shared_hit=int(plan.get("Shared Hit Blocks", 0)),
        shared_read=int(plan.get("Shared Read Blocks", 0)),
        temp_blocks=int(plan.get("Temp Read Blocks", 0)) + int(plan.get("Temp Written Blocks", 0)),
        execution_ms=round(float(document.get("Execution Time", 0.0)), 2),
        planning_ms=round(float(document.get("Planning Time", 0.0)), 2),
    )
