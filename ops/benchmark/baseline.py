"""The "before" schema: the platform's tables with primary keys only, no partitions, no other indexes.

``bench_baseline.<table>`` is ``CREATE TABLE ... (LIKE public.<table> INCLUDING DEFAULTS)`` (a LIKE of a
partitioned parent gives a plain table; generated and identity columns become plain columns holding the same
values), then the public table's primary-key columns as its only index, a copy of every row, and
``VACUUM (ANALYZE)``. Unique constraints, foreign keys, checks and every secondary index are left out on
purpose: they are what the benchmark measures.

The schema is reused while its fingerprint (row count and an order-independent hash of every row's text, per
table) equals public's; otherwise, or with ``--rebuild-baseline``, it is built anew in one transaction.
Table names come only from ``BASELINE_MODELS``; identifiers are quoted with the backend's ``quote_name``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db import connections, models, transaction

from claims.models import Claim, ClaimLine, ClaimNumber, ClaimStatusHistory
from members.models import HealthPlan, Member
from providers.models import Provider, ProviderNetwork

BASELINE_SCHEMA = "bench_baseline"
PLATFORM_SCHEMA = "public"

# Every table a catalog query or a benchmarked admin page reads. Others (users, sessions, content types)
# resolve to public under "search_path = bench_baseline, public".
BASELINE_MODELS: tuple[type[models.Model], ...] = (
    HealthPlan,
    Member,
    Provider,
    ProviderNetwork,
    Claim,
    ClaimLine,
    ClaimStatusHistory,
    ClaimNumber,
)


def baseline_tables() -> tuple[str, ...]:
    """Table names of ``BASELINE_MODELS``, in that order."""
    return tuple(model._meta.db_table for model in BASELINE_MODELS)


@dataclass(frozen=True)
class TableFingerprint:
    """Row count and the sum of ``hashtext(row::text)`` over the table: equal content gives equal values."""

    rows: int
    row_hash: int


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    seconds: float


@dataclass
class BaselineResult:
    """What ``ensure_baseline`` did: ``reused`` the schema, or built it (``tables``, ``build_seconds``)."""

    reused: bool
    reason: str
    fingerprint_seconds: float
    build_seconds: float = 0.0
    tables: list[TableCopy] = field(default_factory=list)
    platform_rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexRow:
    """An index of a schema: the table it is on, its name, whether it is the primary key, its definition."""

    table: str
    name: str
    is_primary: bool
    definition: str


def _qualified(schema: str, table: str, *, using: str) -> str:
    quote = connections[using].ops.quote_name
    return f"{quote(schema)}.{quote(table)}"


def table_exists(schema: str, table: str, *, using: str = "default") -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [_qualified(schema, table, using=using)])
        return bool(cursor.fetchone()[0])


def table_columns(schema: str, table: str, *, using: str = "default") -> list[str]:
    """Column names of ``schema.table`` in their order (dropped columns left out)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT attname FROM pg_attribute
            WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
            ORDER BY attnum
            """,
            [_qualified(schema, table, using=using)],
        )
        return [row[0] for row in cursor.fetchall()]


def table_fingerprint(schema: str, table: str, *, using: str = "default") -> TableFingerprint:
    """Row count and content hash of ``schema.table`` (a full scan: seconds at millions of rows)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(hashtext(t::text)), 0) FROM {_qualified(schema, table, using=using)} t"
        )
        rows, row_hash = cursor.fetchone()
    return TableFingerprint(rows=int(rows), row_hash=int(row_hash))


def primary_key_columns(schema: str, table: str, *, using: str = "default") -> list[str]:
    """Columns of the primary key of ``schema.table`` in key order (the partitioned parent's for claims)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = %s::regclass AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """,
            [_qualified(schema, table, using=using)],
        )
        return [row[0] for row in cursor.fetchall()]


def schema_indexes(schema: str, *, using: str = "default") -> list[IndexRow]:
    """Every index in ``schema`` (from pg_indexes, with pg_index.indisprimary)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT ix.tablename, ix.indexname, i.indisprimary, ix.indexdef
            FROM pg_indexes ix
            JOIN pg_class c ON c.relname = ix.indexname
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = ix.schemaname
            JOIN pg_index i ON i.indexrelid = c.oid
            WHERE ix.schemaname = %s
            ORDER BY ix.tablename, ix.indexname
            """,
            [schema],
        )
        return [IndexRow(table=t, name=n, is_primary=p, definition=d) for t, n, p, d in cursor.fetchall()]


def schema_exists(schema: str, *, using: str = "default") -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [schema])
        return bool(cursor.fetchone()[0])


def _stale_reason(*, check_baseline: bool, using: str) -> tuple[str | None, dict[str, int]]:
    """Why the baseline cannot be reused (None if it can), and public's row counts per table.

    With ``check_baseline=False`` only public is read (the caller rebuilds anyway).
    """
    platform_rows: dict[str, int] = {}
    reason: str | None = None if check_baseline else "--rebuild-baseline"
    baseline_present = check_baseline and schema_exists(BASELINE_SCHEMA, using=using)
    for table in baseline_tables():
        platform = table_fingerprint(PLATFORM_SCHEMA, table, using=using)
        platform_rows[table] = platform.rows
        if reason is not None:
            continue
        if not baseline_present or not table_exists(BASELINE_SCHEMA, table, using=using):
            reason = f"{BASELINE_SCHEMA}.{table} does not exist"
        elif table_columns(BASELINE_SCHEMA, table, using=using) != table_columns(
            PLATFORM_SCHEMA, table, using=using
        ):
            reason = f"{table}: columns differ from public's"
        else:
            copy = table_fingerprint(BASELINE_SCHEMA, table, using=using)
            if copy != platform:
                reason = (
                    f"{table}: {copy.rows:,} rows or their content differ from public's {platform.rows:,}"
                )
    return reason, platform_rows


def drop_baseline(*, using: str = "default") -> None:
    """Drop the baseline schema and everything in it (nothing else is touched)."""
    quote = connections[using].ops.quote_name
    with connections[using].cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote(BASELINE_SCHEMA)} CASCADE")


def vacuum_analyze(schema: str, tables: tuple[str, ...], *, using: str = "default") -> float:
    """``VACUUM (ANALYZE)`` each table; seconds taken. Must run outside a transaction (autocommit).

    Run on both schemas before timing so each is measured with fresh statistics and a set visibility map:
    autovacuum never analyzes a partitioned parent, and index-only scans visit the heap until a vacuum has
    marked pages all-visible.
    """
    started = time.perf_counter()
    with connections[using].cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {_qualified(schema, table, using=using)}")
    return time.perf_counter() - started


def build_baseline(*, using: str = "default") -> list[TableCopy]:
    """(Re)create ``bench_baseline`` from public in one transaction: LIKE, copy rows, primary key only."""
    quote = connections[using].ops.quote_name
    copies: list[TableCopy] = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote(BASELINE_SCHEMA)} CASCADE")
        cursor.execute(f"CREATE SCHEMA {quote(BASELINE_SCHEMA)}")
        for table in baseline_tables():
            started = time.perf_counter()
            source = _qualified(PLATFORM_SCHEMA, table, using=using)
            target = _qualified(BASELINE_SCHEMA, table, using=using)
            key = ", ".join(
                quote(column) for column in primary_key_columns(PLATFORM_SCHEMA, table, using=using)
            )
            cursor.execute(f"CREATE TABLE {target} (LIKE {source} INCLUDING DEFAULTS)")
            cursor.execute(f"INSERT INTO {target} SELECT * FROM {source}")
            rows = cursor.rowcount
            # The key after the copy: one sorted build instead of index maintenance on every inserted row.
            cursor.execute(f"ALTER TABLE {target} ADD PRIMARY KEY ({key})")
            copies.append(TableCopy(table=table, rows=rows, seconds=round(time.perf_counter() - started, 2)))
    return copies


def ensure_baseline(*, rebuild: bool = False, using: str = "default") -> BaselineResult:
    """Reuse ``bench_baseline`` when it matches public table by table, else build it; then VACUUM (ANALYZE).

    Returns what was done, with seconds. The fingerprint check reads every row of both schemas once.
    """
    started = time.perf_counter()
    reason, platform_rows = _stale_reason(check_baseline=not rebuild, using=using)
    fingerprint_seconds = time.perf_counter() - started
    if reason is None:
        return BaselineResult(
            reused=True,
            reason="row counts and content match public",
            fingerprint_seconds=fingerprint_seconds,
            platform_rows=platform_rows,
        )
    started = time.perf_counter()
    copies = build_baseline(using=using)
    vacuum_analyze(BASELINE_SCHEMA, baseline_tables(), using=using)
    return BaselineResult(
        reused=False,
        reason=reason,
        fingerprint_seconds=fingerprint_seconds,
        build_seconds=time.perf_counter() - started,
        tables=copies,
        platform_rows=platform_rows,
    )
