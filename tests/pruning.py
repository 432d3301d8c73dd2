"""Measure partition pruning in tests: the partitions each statement the code runs is planned over, and the locks.

``many_months_added`` (the body of a module's fixture) adds ``EXTRA_MONTHS`` empty, committed monthly partitions
of the claims group (claims and lines) on top of the tests' ~29, so that a statement that cannot prune shows it:
it is planned over every one of them. ``planned_statements`` records, for every statement on ``claims_claim`` /
``claims_claimline`` that runs inside it (Django's cursors and the server-side-binding ``psycopg.Cursor`` of
ops.platform.binding alike), how many partitions PostgreSQL planned it over: ``EXPLAIN (FORMAT JSON)`` of the
statement with its own parameters, run on the same connection right before it. A partition pruned at plan time is
absent from the plan; one pruned at executor start-up is counted in the Append's "Subplans Removed", and counted
here, because it was planned and locked all the same (PostgreSQL docs, "Partition Pruning").
``claim_partition_locks`` counts the relations of the claims partitions (the partitions and their indexes) this
backend holds a lock on (pg_locks).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection

from tests import pgplan

# Relations of one month's claims and lines partitions with their indexes, with room to spare: a statement that
# reads one month locks about 25 of them; one that cannot prune, every month's (over 1,000 with EXTRA_MONTHS).
ONE_MONTH_LOCKS = 40
# Empty months added below the tests' own: far in the past, so no test's claims land in them.
EXTRA_MONTHS = 48
FIRST_EXTRA_MONTH = dt.date(2001, 1, 1)
# A statement naming a partitioned claims table (not claims_claimnumber, claims_claimadjustment, ...).
_CLAIMS_TABLES = re.compile(r"\bclaims_claim(?:line)?\b")
_PARTITION = re.compile(r"^claims_claim(?:line)?_(?:p\d{4}_\d{2}|default)$")
_PLANNED_VERBS = ("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")


def extra_months() -> list[dt.date]:
    return [
        dt.date(FIRST_EXTRA_MONTH.year + (FIRST_EXTRA_MONTH.month - 1 + k) // 12, (k % 12) + 1, 1)
        for k in range(EXTRA_MONTHS)
    ]


def many_months_added(django_db_blocker: Any) -> Iterator[int]:
    """Body of a module's ``many_months`` fixture: ``EXTRA_MONTHS`` more empty month partitions of claims and
    lines, committed; yields how many claim partitions exist then. Dropped again at the end (only if still empty:
    ``partitions_drop_empty``)."""
    from ops.platform.partitioning import existing_partitions, partitions_drop_empty, partitions_ensure

    with django_db_blocker.unblock():
        created = partitions_ensure(group="claims", months=extra_months())
        total = len(existing_partitions("claims_claim"))
    try:
        yield total
    finally:
        with django_db_blocker.unblock():
            partitions_drop_empty(group="claims", names=created)


@dataclass
class Planned:
    """One statement on the claims tables and the partitions it was planned over."""

    sql: str
    partitions: int
    relations: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return f"{self.partitions} partitions: {' '.join(self.sql.split())[:160]}"


@dataclass
class PlannedStatements:
    statements: list[Planned] = field(default_factory=list)

    def matching(self, pattern: str) -> list[Planned]:
        """The statements whose SQL contains ``pattern`` (a regular expression, case-insensitive)."""
        return [p for p in self.statements if re.search(pattern, p.sql, re.IGNORECASE | re.DOTALL)]

    @property
    def most(self) -> int:
        """Partitions of the statement planned over the most (0 when none ran)."""
        return max((p.partitions for p in self.statements), default=0)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.statements)


def plan_partitions(plan: pgplan.PlanNode) -> tuple[int, set[str]]:
    """(partitions planned, their names): the partitions in the plan plus those removed at executor start-up."""
    names = {name for name in pgplan.relation_names(plan) if _PARTITION.match(name)}
    removed = sum(int(node.get("Subplans Removed", 0)) for node in pgplan.iter_nodes(plan))
    return len(names) + removed, names


@contextmanager
def planned_statements() -> Iterator[PlannedStatements]:
    """Record every statement on the partitioned claims tables run inside the block, with its planned partitions.

    Wraps ``psycopg.Cursor.execute`` (Django's cursors derive from it, ops.platform.binding's is one), EXPLAINs
    each such statement with its parameters on a new cursor of the same class and connection, then runs it.
    """
    recorded = PlannedStatements()
    original = psycopg.Cursor.execute
    busy = False

    def execute(self: psycopg.Cursor[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
        nonlocal busy
        text = (
            query if isinstance(query, str) else query.as_string(self) if hasattr(query, "as_string") else ""
        )
        if (
            not busy
            and isinstance(text, str)
            and text.lstrip().upper().startswith(_PLANNED_VERBS)
            and _CLAIMS_TABLES.search(text)
        ):
            busy = True
            try:
                explainer = type(self)(self.connection)
                original(explainer, f"EXPLAIN (FORMAT JSON) {text}", params)
                (document,) = explainer.fetchone() or (None,)
                explainer.close()
                plan = (json.loads(document) if isinstance(document, str) else document)[0]
                partitions, names = plan_partitions(plan["Plan"])
                recorded.statements.append(Planned(text, partitions, names))
            finally:
                busy = False
        return original(self, query, params, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield recorded
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


def claim_partition_locks(using: Any = None) -> int:
    """Relations of the claims and lines partitions (the partitions and their indexes) this backend has locked."""
    conn = using or connection
    with conn.cursor() as cursor:
        cursor.execute(
            """
            WITH parts AS (
                SELECT i.inhrelid AS oid FROM pg_inherits i
                WHERE i.inhparent IN ('claims_claim'::regclass, 'claims_claimline'::regclass)
            )
            SELECT count(DISTINCT l.relation) FROM pg_locks l
            WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
              AND (l.relation IN (SELECT oid FROM parts)
                   OR l.relation IN (SELECT x.indexrelid FROM pg_index x WHERE x.indrelid IN (SELECT oid FROM parts)))
            """
        )
        return int(cursor.fetchone()[0])


@contextmanager
def locks_taken() -> Iterator[list[int]]:
    """Claims-partition relation locks this backend holds before and after the block: yields a list that gets
    [before, after].

    Run it inside ``transaction.atomic()``: the locks a block's statements take are held until its transaction
    ends (a savepoint's are released when it rolls back). Assert on ``after`` itself, not on ``after - before``:
    a lock the test's set-up already holds is not taken again, so a difference can hide a statement that locks
    every partition.
    """
    counts = [claim_partition_locks()]
    yield counts
    counts.append(claim_partition_locks())
