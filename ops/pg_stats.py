"""Database health reports read from PostgreSQL's statistics views and catalogs, as typed rows.

Every function takes ``using=`` (a Django database alias), passes values only as query parameters and reads
relation names from the catalogs, never from user input. Only the ``public`` schema is reported: the
benchmark's ``bench_baseline`` schema (ops/benchmark/baseline.py) holds copies of our tables that would
otherwise show up as unused or duplicate indexes.

Statistics views are per partition (``pg_stat_user_indexes``, ``pg_stat_user_tables``): the reports roll them
up to the partitioned parent through ``pg_inherits`` (PostgreSQL docs, "pg_inherits": a partition's index has
the parent's index as ``inhparent``). Counters are read after ``pg_stat_clear_snapshot()``, because a
transaction otherwise keeps seeing the snapshot it took on its first read (``stats_fetch_consistency``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg.errors
from django.apps import apps
from django.db import DatabaseError, connections, models, transaction
from psycopg import sql

SCHEMA = "public"

# How to turn pg_stat_statements on; shown word for word on the page and by db_report (PostgreSQL docs,
# "pg_stat_statements": the module must be in shared_preload_libraries, which needs a server restart).
ENABLE_PG_STAT_STATEMENTS = (
    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';  -- keep any libraries already listed\n"
    "-- restart the server, e.g. pg_ctlcluster --skip-systemctl-redirect 15 main restart (as root)\n"
    "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;  -- in this database (migration ops/0001 does it)"
)

# Sort keys of the slow-query report: a fixed map, so no user text reaches the ORDER BY.
SLOW_QUERY_ORDER = {
    "total": "total_exec_time",
    "mean": "mean_exec_time",
    "calls": "calls",
}


class PgStatStatementsUnavailable(Exception):
    """pg_stat_statements cannot be read here; ``str()`` says why and how to enable it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}\nTo enable it:\n{ENABLE_PG_STAT_STATEMENTS}")
        self.reason = reason
        self.how_to_enable = ENABLE_PG_STAT_STATEMENTS


def _fetch(query: str | sql.Composable, params: Sequence[Any] = (), *, using: str) -> list[tuple[Any, ...]]:
    with connections[using].cursor() as cursor:
        cursor.execute(query, list(params))
        return list(cursor.fetchall())


def _clear_stats_snapshot(using: str) -> None:
    _fetch("SELECT pg_stat_clear_snapshot()", using=using)


def _ratio(part: float | int | None, whole: float | int | None) -> float | None:
    return float(part or 0) / float(whole) if whole else None


# --- slow queries (pg_stat_statements) --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlowQuery:
    """One normalized statement of pg_stat_statements in this database. Times in ms."""

    queryid: int
    query: str  # normalized: constants replaced by $1, $2, ...
    calls: int
    total_ms: float
    mean_ms: float
    stddev_ms: float
    rows: int
    shared_hit: int  # 8 kB buffers found in shared_buffers
    shared_read: int  # 8 kB buffers read from the OS (page cache or disk)
    hit_ratio: float | None  # shared_hit / (shared_hit + shared_read); None when it touched no buffer


# The columns are total_exec_time / mean_exec_time / stddev_exec_time since PostgreSQL 13 (not total_time).
# Read under a fixed name (a module constant) so a test can point it at a relation that fails the same way.
STATEMENTS_RELATION = "pg_stat_statements"


def _statements_sql(order_column: str) -> sql.Composed:
    return sql.SQL(
        """
        SELECT s.queryid, s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.stddev_exec_time, s.rows,
               s.shared_blks_hit, s.shared_blks_read
        FROM {relation} s
        WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          -- Another role's statements have no queryid and no text for a role without pg_read_all_stats.
          AND s.queryid IS NOT NULL
          AND s.calls >= %s AND s.mean_exec_time >= %s
        ORDER BY {order} DESC, s.queryid
        LIMIT %s
        """
    ).format(relation=sql.Identifier(STATEMENTS_RELATION), order=sql.Identifier("s", order_column))


def slow_queries(
    *,
    order_by: str = "total",
    limit: int = 20,
    min_calls: int = 1,
    min_mean_ms: float = 0.0,
    using: str = "default",
) -> list[SlowQuery]:
    """Top ``limit`` statements by ``order_by`` ("total", "mean" or "calls"), filtered by calls and mean time.

    Raises :class:`PgStatStatementsUnavailable` when the extension is not installed in this database
    (undefined table) or not preloaded ("pg_stat_statements must be loaded via shared_preload_libraries",
    SQLSTATE 55000); the read runs in a savepoint so the caller's transaction stays usable.
    Raises ``ValueError`` for an unknown ``order_by``.
    """
    if order_by not in SLOW_QUERY_ORDER:
        raise ValueError(f"order_by must be one of {sorted(SLOW_QUERY_ORDER)}, not {order_by!r}")
    try:
        with transaction.atomic(using=using):
            rows = _fetch(
                _statements_sql(SLOW_QUERY_ORDER[order_by]), [min_calls, min_mean_ms, limit], using=using
            )
    except DatabaseError as error:
        # Django wraps the driver's error; its class says which of the two cases this is.
        cause = error.__cause__
        if isinstance(cause, psycopg.errors.UndefinedTable):
            raise PgStatStatementsUnavailable(
                f"The pg_stat_statements extension is not installed in this database ({cause})."
            ) from error
        if isinstance(cause, psycopg.errors.ObjectNotInPrerequisiteState):
            raise PgStatStatementsUnavailable(
                f"pg_stat_statements is installed but not preloaded by the server ({cause})."
            ) from error
        raise
    return [
        SlowQuery(
            queryid=int(queryid),
            query=query,
            calls=int(calls),
            total_ms=float(total),
            mean_ms=float(mean),
            stddev_ms=float(stddev),
            rows=int(nrows),
            shared_hit=int(hit),
            shared_read=int(read),
            hit_ratio=_ratio(hit, int(hit) + int(read)),
        )
        for queryid, query, calls, total, mean, stddev, nrows, hit, read in rows
    ]


def reset_pg_stat_statements(*, using: str = "default") -> None:
    """Empty pg_stat_statements for this database only (other databases on the server keep theirs).

    ``pg_stat_statements_reset(userid, dbid, queryid)`` with 0 for "any" user and query (PostgreSQL 12+).

    Raises :class:`PgStatStatementsUnavailable` like :func:`slow_queries`.
    """
    try:
        with transaction.atomic(using=using):
            _fetch(
                "SELECT pg_stat_statements_reset("
                "0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
                using=using,
            )
    except DatabaseError as error:
        if isinstance(
            error.__cause__, psycopg.errors.UndefinedFunction | psycopg.errors.ObjectNotInPrerequisiteState
        ):
            raise PgStatStatementsUnavailable(
                f"pg_stat_statements cannot be reset here ({error.__cause__})."
            ) from error
        raise


# --- indexes ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexUsage:
    """One index, partition indexes rolled up into the parent index they were created from. Sizes in bytes."""

    name: str
    table: str
    method: str  # btree, gin, ...
    definition: str  # pg_get_indexdef of the (parent) index
    columns: tuple[str, ...]  # key columns, "expr" for an expression
    is_unique: bool
    is_primary: bool
    is_valid: bool  # the parent's indisvalid: false while a partition lacks an attached index
    partitions: int  # leaf indexes rolled up (1 for a plain table's index)
    scans: int
    tuples_read: int
    tuples_fetched: int
    size_bytes: int
    predicate: str | None
    expressions: str | None
    key_attnums: tuple[int, ...]  # pg_index.indkey key part (0 for an expression)
    opclasses: tuple[int, ...]
    options: tuple[int, ...]  # indoption (DESC / NULLS FIRST bits)


_INDEX_USAGE_SQL = """
WITH RECURSIVE tree(root, oid) AS (
    SELECT c.oid, c.oid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind IN ('i', 'I')
      AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
    UNION ALL
    SELECT tree.root, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
)
SELECT
    root.relname,
    tbl.relname,
    am.amname,
    pg_get_indexdef(root.oid),
    ARRAY(
        SELECT COALESCE(a.attname, 'expr')
        FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
        LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum > 0
        WHERE k.ord <= ix.indnkeyatts
        ORDER BY k.ord
    ),
    ix.indisunique,
    ix.indisprimary,
    ix.indisvalid,
    COUNT(*) FILTER (WHERE leaf.relkind = 'i'),
    COALESCE(SUM(s.idx_scan), 0),
    COALESCE(SUM(s.idx_tup_read), 0),
    COALESCE(SUM(s.idx_tup_fetch), 0),
    COALESCE(SUM(pg_relation_size(tree.oid)), 0),
    pg_get_expr(ix.indpred, ix.indrelid),
    pg_get_expr(ix.indexprs, ix.indrelid),
    (ix.indkey::int2[])[0:ix.indnkeyatts - 1],
    (ix.indclass::oid[])[0:ix.indnkeyatts - 1],
    (ix.indoption::int2[])[0:ix.indnkeyatts - 1]
FROM tree
JOIN pg_class root ON root.oid = tree.root
JOIN pg_class leaf ON leaf.oid = tree.oid
JOIN pg_index ix ON ix.indexrelid = tree.root
JOIN pg_class tbl ON tbl.oid = ix.indrelid
JOIN pg_am am ON am.oid = root.relam
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = tree.oid
GROUP BY root.oid, root.relname, tbl.relname, am.amname, ix.indexrelid
ORDER BY tbl.relname, root.relname
"""


def index_usage(*, using: str = "default") -> list[IndexUsage]:
    """Every index of the public schema with scans, tuples and size summed over its partitions."""
    _clear_stats_snapshot(using)
    with connections[using].cursor() as cursor:
        cursor.execute(_INDEX_USAGE_SQL, {"schema": SCHEMA})
        rows = cursor.fetchall()
    return [
        IndexUsage(
            name=name,
            table=table,
            method=method,
            definition=definition,
            columns=tuple(columns),
            is_unique=unique,
            is_primary=primary,
            is_valid=valid,
            partitions=int(partitions),
            scans=int(scans),
            tuples_read=int(read),
            tuples_fetched=int(fetched),
            size_bytes=int(size),
            predicate=predicate,
            expressions=expressions,
            key_attnums=tuple(int(k) for k in keys),
            opclasses=tuple(int(c) for c in classes),
            options=tuple(int(o) for o in options),
        )
        for (
            name,
            table,
            method,
            definition,
            columns,
            unique,
            primary,
            valid,
            partitions,
            scans,
            read,
            fetched,
            size,
            predicate,
            expressions,
            keys,
            classes,
            options,
        ) in rows
    ]


def unused_indexes(indexes: Sequence[IndexUsage], *, min_size_bytes: int = 1024 * 1024) -> list[IndexUsage]:
    """Indexes never scanned since statistics were last reset, not enforcing uniqueness, of at least the size."""
    return [
        index
        for index in indexes
        if index.scans == 0
        and not index.is_unique
        and not index.is_primary
        and index.size_bytes >= min_size_bytes
    ]


@dataclass(frozen=True)
class RedundantIndex:
    """``index`` is not needed given ``covered_by``: same keys (duplicate) or a leading prefix of its keys."""

    index: str
    covered_by: str
    table: str
    kind: str  # "duplicate" or "redundant"
    size_bytes: int  # what dropping ``index`` would free


def _same_shape(a: IndexUsage, b: IndexUsage) -> bool:
    return (
        a.table == b.table
        and a.method == b.method
        and a.predicate == b.predicate
        and a.expressions == b.expressions
    )


def duplicate_indexes(indexes: Sequence[IndexUsage]) -> list[RedundantIndex]:
    """Pairs where one index's key (columns, operator classes, ordering) equals or leads another's.

    Same table, method, predicate and expressions are required. A unique or primary-key index is never
    reported as the one to drop (it enforces a constraint), except as an exact duplicate of another unique one.
    """
    found: list[RedundantIndex] = []
    for a in indexes:
        for b in indexes:
            if a.name == b.name or not _same_shape(a, b):
                continue
            n = len(a.key_attnums)
            prefix_of_b = (
                b.key_attnums[:n] == a.key_attnums
                and b.opclasses[:n] == a.opclasses
                and b.options[:n] == a.options
            )
            if not prefix_of_b:
                continue
            if len(b.key_attnums) == n:
                # Report an exact pair once: drop the one that enforces nothing, else the later name.
                a_enforces, b_enforces = a.is_unique or a.is_primary, b.is_unique or b.is_primary
                if (a_enforces and not b_enforces) or (a_enforces == b_enforces and a.name < b.name):
                    continue
                found.append(RedundantIndex(a.name, b.name, a.table, "duplicate", a.size_bytes))
            elif not (a.is_unique or a.is_primary) and a.method == "btree":
                found.append(RedundantIndex(a.name, b.name, a.table, "redundant", a.size_bytes))
    return sorted(found, key=lambda r: (r.table, r.index))


def invalid_indexes(indexes: Sequence[IndexUsage]) -> list[IndexUsage]:
    """Indexes PostgreSQL will not use: a failed CREATE INDEX CONCURRENTLY, or a parent with a partition missing."""
    return [index for index in indexes if not index.is_valid]


@dataclass(frozen=True)
class DeclaredIndexCheck:
    """One index or unique constraint declared in a model's Meta, as found in the database."""

    model: str  # app_label.ModelName
    table: str
    name: str
    exists: bool
    is_valid: bool
    partitions: int  # partitions of the table (0 for a plain table)
    partitions_attached: int  # partitions that have this index attached

    @property
    def ok(self) -> bool:
        return self.exists and self.is_valid and self.partitions_attached == self.partitions


def declared_indexes() -> list[tuple[str, str, str]]:
    """(model label, table, index name) for every Meta index and UniqueConstraint of the installed apps."""
    declared: list[tuple[str, str, str]] = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        names = [index.name for index in meta.indexes]
        names += [c.name for c in meta.constraints if isinstance(c, models.UniqueConstraint)]
        declared.extend((meta.label, meta.db_table, name) for name in names if name)
    return sorted(declared)


_DECLARED_SQL = """
SELECT d.name, c.oid IS NOT NULL, COALESCE(ix.indisvalid, false),
       (SELECT COUNT(*) FROM pg_inherits p JOIN pg_class pc ON pc.oid = p.inhrelid
        WHERE p.inhparent = t.oid AND pc.relkind IN ('r', 'p')),
       (SELECT COUNT(*) FROM pg_inherits p WHERE p.inhparent = c.oid)
FROM unnest(%s::text[], %s::text[]) AS d(name, tbl)
LEFT JOIN pg_namespace n ON n.nspname = %s
LEFT JOIN pg_class t ON t.relname = d.tbl AND t.relnamespace = n.oid
LEFT JOIN pg_class c ON c.relname = d.name AND c.relnamespace = n.oid AND c.relkind IN ('i', 'I')
LEFT JOIN pg_index ix ON ix.indexrelid = c.oid AND ix.indrelid = t.oid
"""


def check_declared_indexes(*, using: str = "default") -> list[DeclaredIndexCheck]:
    """Every index declared in the models' Meta exists on its table and is valid, with every partition attached."""
    declared = declared_indexes()
    if not declared:
        return []
    rows = _fetch(_DECLARED_SQL, [[d[2] for d in declared], [d[1] for d in declared], SCHEMA], using=using)
    found = {name: row for name, *row in rows}
    checks = []
    for label, table, name in declared:
        exists, valid, partitions, attached = found[name]
        checks.append(
            DeclaredIndexCheck(
                model=label,
                table=table,
                name=name,
                exists=bool(exists),
                is_valid=bool(valid),
                partitions=int(partitions),
                partitions_attached=int(attached) if exists else 0,
            )
        )
    return checks


# --- tables -----------------------------------------------------------------------------------------------------

# A table this big (estimated rows) that is read mostly by sequential scans may miss an index.
LARGE_TABLE_ROWS = 10_000
SEQ_SCAN_RATIO_FLAG = 0.5


@dataclass(frozen=True)
class TableStats:
    """One table of the public schema, partitions summed into their parent. Sizes in bytes."""

    name: str
    kind: str  # "table", "partitioned", "materialized view"
    partitions: int
    table_bytes: int  # heap + TOAST (pg_table_size)
    index_bytes: int
    total_bytes: int  # table + indexes
    live_tuples: int
    dead_tuples: int
    last_vacuum: dt.datetime | None  # latest manual VACUUM of any partition
    last_autovacuum: dt.datetime | None
    last_analyze: dt.datetime | None
    last_autoanalyze: dt.datetime | None
    seq_scans: int
    seq_tuples_read: int
    index_scans: int
    heap_hit: int
    heap_read: int

    @property
    def seq_scan_ratio(self) -> float | None:
        return _ratio(self.seq_scans, self.seq_scans + self.index_scans)

    @property
    def cache_hit_ratio(self) -> float | None:
        return _ratio(self.heap_hit, self.heap_hit + self.heap_read)

    @property
    def missing_index_candidate(self) -> bool:
        """Large, and read mostly by sequential scans that each return many rows."""
        ratio = self.seq_scan_ratio
        return (
            self.live_tuples >= LARGE_TABLE_ROWS
            and ratio is not None
            and ratio >= SEQ_SCAN_RATIO_FLAG
            and self.seq_tuples_read >= LARGE_TABLE_ROWS
        )


_KINDS = {"r": "table", "p": "partitioned", "m": "materialized view"}

_TABLES_SQL = """
WITH RECURSIVE tree(root, oid) AS (
    SELECT c.oid, c.oid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
    UNION ALL
    SELECT tree.root, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
)
SELECT
    root.relname, root.relkind::text,
    COUNT(*) FILTER (WHERE leaf.relispartition AND leaf.relkind <> 'p'),
    COALESCE(SUM(pg_table_size(tree.oid)), 0),
    COALESCE(SUM(pg_indexes_size(tree.oid)), 0),
    COALESCE(SUM(pg_total_relation_size(tree.oid)), 0),
    COALESCE(SUM(s.n_live_tup), 0), COALESCE(SUM(s.n_dead_tup), 0),
    MAX(s.last_vacuum), MAX(s.last_autovacuum), MAX(s.last_analyze), MAX(s.last_autoanalyze),
    COALESCE(SUM(s.seq_scan), 0), COALESCE(SUM(s.seq_tup_read), 0), COALESCE(SUM(s.idx_scan), 0),
    COALESCE(SUM(io.heap_blks_hit), 0), COALESCE(SUM(io.heap_blks_read), 0)
FROM tree
JOIN pg_class root ON root.oid = tree.root
JOIN pg_class leaf ON leaf.oid = tree.oid
LEFT JOIN pg_stat_all_tables s ON s.relid = tree.oid
LEFT JOIN pg_statio_all_tables io ON io.relid = tree.oid
GROUP BY root.oid, root.relname, root.relkind
ORDER BY SUM(pg_total_relation_size(tree.oid)) DESC, root.relname
"""


def table_stats(*, using: str = "default") -> list[TableStats]:
    """Size, tuples, maintenance times, scans and cache hits of every public table, largest first."""
    _clear_stats_snapshot(using)
    with connections[using].cursor() as cursor:
        cursor.execute(_TABLES_SQL, {"schema": SCHEMA})
        rows = cursor.fetchall()
    return [
        TableStats(
            name=row[0],
            kind=_KINDS.get(row[1], row[1]),
            partitions=int(row[2]),
            table_bytes=int(row[3]),
            index_bytes=int(row[4]),
            total_bytes=int(row[5]),
            live_tuples=int(row[6]),
            dead_tuples=int(row[7]),
            last_vacuum=row[8],
            last_autovacuum=row[9],
            last_analyze=row[10],
            last_autoanalyze=row[11],
            seq_scans=int(row[12]),
            seq_tuples_read=int(row[13]),
            index_scans=int(row[14]),
            heap_hit=int(row[15]),
            heap_read=int(row[16]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CacheHit:
    """Buffer cache hits of the whole database since its statistics were reset (pg_stat_database)."""

    hit: int
    read: int

    @property
    def ratio(self) -> float | None:
        return _ratio(self.hit, self.hit + self.read)


def database_cache_hit(*, using: str = "default") -> CacheHit:
    _clear_stats_snapshot(using)
    ((hit, read),) = _fetch(
        "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()", using=using
    )
    return CacheHit(hit=int(hit), read=int(read))


# --- partitions -------------------------------------------------------------------------------------------------

# A DEFAULT partition is counted exactly up to this many rows (more is reported as this many, estimated).
DEFAULT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class PartitionInfo:
    """One partition of a partitioned public table."""

    parent: str
    name: str
    bound: str  # pg_get_expr(relpartbound): "FOR VALUES FROM (...) TO (...)" or "DEFAULT"
    rows: int
    rows_exact: bool  # counted (a DEFAULT partition) rather than estimated from reltuples
    size_bytes: int  # with indexes and TOAST
    analyzed: bool = True  # False: never vacuumed or analyzed (reltuples -1), rows shown as 0

    @property
    def is_default(self) -> bool:
        return self.bound == "DEFAULT"

    @property
    def flagged(self) -> bool:
        """A DEFAULT partition holding rows: a month is missing, and creating it will fail until they move."""
        return self.is_default and self.rows > 0


# One statement over the catalogs, whatever the number of partitions: each partition's rows are its reltuples, a
# sub-partitioned one's the sum of its leaves' (walked through pg_inherits). Counting each partition instead was one
# statement per partition (250 at 120 months of claims and lines) and, at 10 M claims, a full scan of the tables
# on every page view (bench/results/2026-12-01-partitions-120.md, rows 55-56). reltuples is -1 until a partition
# is first vacuumed or analyzed (PostgreSQL docs, "pg_class"); such a leaf counts 0 and the partition is marked.
_PARTITIONS_SQL = """
WITH RECURSIVE tree(top, oid) AS (
    SELECT i.inhrelid, i.inhrelid
    FROM pg_inherits i
    JOIN pg_class parent ON parent.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = parent.relnamespace
    WHERE n.nspname = %s AND parent.relkind = 'p'
    UNION ALL
    SELECT tree.top, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
),
leaves AS (
    SELECT tree.top,
           COALESCE(SUM(GREATEST(c.reltuples, 0)) FILTER (WHERE c.relkind <> 'p'), 0) AS rows,
           bool_and(c.reltuples >= 0) FILTER (WHERE c.relkind <> 'p') AS analyzed
    FROM tree JOIN pg_class c ON c.oid = tree.oid
    GROUP BY tree.top
)
SELECT parent.relname, child.relname, pg_get_expr(child.relpartbound, child.oid), leaves.rows,
       COALESCE(leaves.analyzed, true), pg_total_relation_size(child.oid)
FROM pg_inherits i
JOIN pg_class parent ON parent.oid = i.inhparent
JOIN pg_class child ON child.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = parent.relnamespace
JOIN leaves ON leaves.top = child.oid
WHERE n.nspname = %s AND parent.relkind = 'p'
ORDER BY parent.relname, child.relname
"""


def partitions(*, using: str = "default") -> list[PartitionInfo]:
    """Every partition with its bounds, estimated rows (``pg_class.reltuples``) and size, in one catalog read.

    DEFAULT partitions (one per partitioned table, whatever the number of months) are counted exactly, up to
    ``DEFAULT_COUNT_LIMIT`` rows: a row there is the flag this page raises, and statistics can miss a row
    written since the last ANALYZE.
    """
    result = []
    for parent, name, bound, reltuples, analyzed, size in _fetch(
        _PARTITIONS_SQL, [SCHEMA, SCHEMA], using=using
    ):
        rows, exact = int(reltuples), False
        if bound == "DEFAULT":
            # The name comes from the catalog, quoted as an identifier.
            count_sql = sql.SQL("SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT %s) capped").format(
                sql.Identifier(SCHEMA, name)
            )
            ((counted,),) = _fetch(count_sql, [DEFAULT_COUNT_LIMIT], using=using)
            rows, exact, analyzed = int(counted), counted < DEFAULT_COUNT_LIMIT, True
        result.append(PartitionInfo(parent, name, bound, rows, exact, int(size), bool(analyzed)))
    return result
