"""Read PostgreSQL plans in tests: EXPLAIN (FORMAT JSON) a QuerySet or SQL and walk the plan tree.

An index declared on a partitioned parent (``claim_work_queue_idx``) appears in a plan under the name of each
partition's own index (``claims_claim_p2026_11_received_at_id_idx``, sometimes with a ``1`` suffix when two
declared indexes share columns), so :func:`declared_index_names` maps every used index back to its top-most
parent through ``pg_inherits`` (PostgreSQL docs, "pg_inherits": for a partitioned index, inhrelid is the
partition's index and inhparent the parent index).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

PlanNode = dict[str, Any]

# Node types that read a relation through an index.
INDEX_SCAN_TYPES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


def explain_sql(
    sql: str, params: Sequence[Any] = (), *, using: str = "default", analyze: bool = False
) -> PlanNode:
    """Run ``EXPLAIN (FORMAT JSON)`` for ``sql`` with ``params`` and return the top plan node.

    ``analyze=True`` executes the statement (EXPLAIN ANALYZE, costs and timing off) so actual row counts and
    ``Heap Fetches`` are present; only use it for reads.
    """
    options = "ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON" if analyze else "FORMAT JSON"
    with connections[using].cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}", list(params))
        (raw,) = cursor.fetchone()
    # psycopg decodes a json column to Python; keep working if a text loader is registered for it.
    document = json.loads(raw) if isinstance(raw, str) else raw
    return document[0]["Plan"]


def explain_queryset(qs: QuerySet[Any], *, analyze: bool = False) -> PlanNode:
    """EXPLAIN the SQL ``qs`` would run, with its parameters bound (``str(qs.query)`` does not quote them)."""
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return explain_sql(sql, params, using=qs.db, analyze=analyze)


def iter_nodes(plan: PlanNode) -> Iterator[PlanNode]:
    """Every node of the plan, depth first, the root included (InitPlans and SubPlans too)."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from iter_nodes(child)


def node_types(plan: PlanNode) -> set[str]:
    return {node["Node Type"] for node in iter_nodes(plan)}


def relation_names(plan: PlanNode) -> set[str]:
    """Tables (partitions by their own name) that the plan reads."""
    return {node["Relation Name"] for node in iter_nodes(plan) if "Relation Name" in node}


def index_names(plan: PlanNode) -> set[str]:
    """Indexes the plan reads, as named in the plan (a partition's own index name for partitioned tables)."""
    return {node["Index Name"] for node in iter_nodes(plan) if "Index Name" in node}


def _top_parents(names: set[str], relkinds: tuple[str, ...], *, using: str) -> dict[str, str]:
    """Map each relation name to its top-most ancestor through pg_inherits (itself if it has none)."""
    if not names:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE chain(start_name, oid, relname, depth) AS (
                SELECT c.relname, c.oid, c.relname, 0
                FROM pg_class c
                WHERE c.relname = ANY(%s) AND c.relkind = ANY(%s) AND pg_table_is_visible(c.oid)
                UNION ALL
                SELECT chain.start_name, p.oid, p.relname, chain.depth + 1
                FROM chain
                JOIN pg_inherits i ON i.inhrelid = chain.oid
                JOIN pg_class p ON p.oid = i.inhparent
            )
            SELECT DISTINCT ON (start_name) start_name, relname
            FROM chain
            ORDER BY start_name, depth DESC
            """,
            [sorted(names), list(relkinds)],
        )
        return dict(cursor.fetchall())


def top_parent_indexes(names: set[str], *, using: str = "default") -> dict[str, str]:
    """Map each index name to the index it was created from on the partitioned parent (itself if none)."""
    # relkind 'i' is an index, 'I' a partitioned index.
    return _top_parents(names, ("i", "I"), using=using)


def parent_table_names(plan: PlanNode, *, using: str = "default") -> set[str]:
    """The tables the plan reads, partitions reported as their partitioned parent."""
    return set(_top_parents(relation_names(plan), ("r", "p"), using=using).values())


def declared_index_names(plan: PlanNode, *, using: str = "default") -> set[str]:
    """The declared (parent) names of every index the plan reads."""
    return set(top_parent_indexes(index_names(plan), using=using).values())


def _index_scans_with_relation(
    plan: PlanNode, relation: str | None = None
) -> Iterator[tuple[str, str | None]]:
    """(index name, relation it reads) of every index scan; a Bitmap Index Scan names no relation, it reads its
    Bitmap Heap Scan's (its ancestor's)."""
    relation = plan.get("Relation Name", relation)
    if "Index Name" in plan:
        yield plan["Index Name"], relation
    for child in plan.get("Plans", ()):
        yield from _index_scans_with_relation(child, relation)


def declared_index_names_on(plan: PlanNode, relations: set[str], *, using: str = "default") -> set[str]:
    """The declared (parent) names of the indexes the plan reads to scan one of ``relations`` (partitions by
    their own name)."""
    names = {name for name, relation in _index_scans_with_relation(plan) if relation in relations}
    return set(top_parent_indexes(names, using=using).values())


def scans_of_index(plan: PlanNode, declared: str, *, using: str = "default") -> list[PlanNode]:
    """Plan nodes that scan ``declared`` or one of its partition indexes."""
    parents = top_parent_indexes(index_names(plan), using=using)
    return [node for node in iter_nodes(plan) if parents.get(node.get("Index Name", "")) == declared]


def seq_scanned_relations(plan: PlanNode) -> set[str]:
    return {node["Relation Name"] for node in iter_nodes(plan) if node["Node Type"] == "Seq Scan"}


def summary(plan: PlanNode, depth: int = 0) -> str:
    """A short indented outline of the plan (node type, relation, index) for assertion messages."""
    parts = [plan["Node Type"]]
    if "Relation Name" in plan:
        parts.append(f"on {plan['Relation Name']}")
    if "Index Name" in plan:
        parts.append(f"using {plan['Index Name']}")
    lines = ["  " * depth + " ".join(parts)]
    lines.extend(summary(child, depth + 1) for child in plan.get("Plans", ()))
    return "\n".join(lines)
