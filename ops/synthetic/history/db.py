"""Catalog SQL and bulk-load steps for the synthetic-data load, each a small function on one connection.

Table names come only from the models (``TABLES`` in ``ops.synthetic.history.generate``) and are quoted
with the backend's ``quote_name``; constraint names and definitions come from ``pg_constraint`` itself.
Follows PostgreSQL's "Populating a Database" advice (docs 14.4): COPY, foreign keys dropped during the load
and re-created afterwards (one validation pass per key instead of a check per row), ANALYZE afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from django.db import connections

from ops.synthetic.history.copy_text import CopyChunk

# Bytes per ``Copy.write`` call: large enough that per-call overhead vanishes, small enough to stream.
WRITE_SIZE = 1 << 20


class ForeignKey(NamedTuple):
    """A foreign key constraint as declared on its table (not a per-partition clone)."""

    table: str
    name: str
    definition: str  # pg_get_constraintdef(), e.g. "FOREIGN KEY (x) REFERENCES t(id) DEFERRABLE ..."
    referenced: str  # the referenced table's name


def _quote(name: str, using: str) -> str:
    return connections[using].ops.quote_name(name)


# ``tables`` and, recursively, their partitions (pg_inherits), as oids.
_WITH_PARTITIONS = """
    WITH RECURSIVE rel(oid) AS (
        SELECT unnest(%s::regclass[])::oid
        UNION ALL
        SELECT i.inhrelid FROM pg_inherits i JOIN rel ON i.inhparent = rel.oid
    )
"""


def foreign_keys(tables: Sequence[str], *, using: str = "default") -> list[ForeignKey]:
    """Foreign keys declared on ``tables`` or on their partitions, ordered by table and name.

    ``conparentid = 0`` keeps the keys as declared: on a partitioned table PostgreSQL also stores a clone per
    partition (and, for a key referencing a partitioned table, per referenced partition); dropping or adding
    the declared key drops or adds its clones. A key declared on a partition itself (the claim lines' month key
    to the claims partition of the same month, ``ops.platform.partitioning.MonthForeignKey``) is its own.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            _WITH_PARTITIONS
            + """
            SELECT cl.relname, c.conname, pg_get_constraintdef(c.oid), rf.relname
            FROM pg_constraint c
            JOIN pg_class cl ON cl.oid = c.conrelid
            JOIN pg_class rf ON rf.oid = c.confrelid
            WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conrelid IN (SELECT oid FROM rel)
            ORDER BY cl.relname, c.conname
            """,
            [list(tables)],
        )
        return [ForeignKey(*row) for row in cursor.fetchall()]


def drop_foreign_keys(keys: Sequence[ForeignKey], *, using: str = "default") -> None:
    with connections[using].cursor() as cursor:
        for key in keys:
            cursor.execute(
                f"ALTER TABLE {_quote(key.table, using)} DROP CONSTRAINT {_quote(key.name, using)}"
            )


def add_foreign_keys(keys: Sequence[ForeignKey], *, using: str = "default") -> dict[ForeignKey, float]:
    """Re-create ``keys`` with their own names and definitions; each validates all rows in one pass.

    Returns the seconds each took. Raises ``django.db.IntegrityError`` when a row has no referenced row.
    """
    seconds: dict[ForeignKey, float] = {}
    with connections[using].cursor() as cursor:
        for key in keys:
            started = time.perf_counter()
            cursor.execute(
                f"ALTER TABLE {_quote(key.table, using)} ADD CONSTRAINT {_quote(key.name, using)} {key.definition}"
            )
            seconds[key] = time.perf_counter() - started
    return seconds


def truncate(tables: Sequence[str], *, using: str = "default") -> None:
    """Empty ``tables`` (and, by CASCADE, any table with a foreign key to them) and restart their ids."""
    names = ", ".join(_quote(t, using) for t in tables)
    with connections[using].cursor() as cursor:
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def copy_chunk(chunk: CopyChunk, *, freeze: bool, using: str = "default") -> None:
    """COPY ``chunk`` (text format) into its table.

    ``freeze`` writes the rows already frozen and all-visible (COPY ... FREEZE): allowed only because the
    table was truncated earlier in the same transaction; it spares the later VACUUM a pass over every page.
    """
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    columns = ", ".join(_quote(c, using) for c in chunk.columns)
    options = " WITH (FREEZE)" if freeze else ""
    sql = f"COPY {_quote(chunk.table, using)} ({columns}) FROM STDIN{options}"
    data = memoryview(chunk.data)
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, len(data), WRITE_SIZE):
            copy.write(data[start : start + WRITE_SIZE])


def reset_sequences(tables: Sequence[str], *, using: str = "default") -> None:
    """Point each table's ``id`` identity sequence past the largest id (rows were copied with explicit ids)."""
    with connections[using].cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 1), max(id) IS NOT NULL) "
                f"FROM {_quote(table, using)}",
                [table],
            )


def maintain(tables: Sequence[str], *, command: str, using: str = "default") -> dict[str, float]:
    """Run ``command`` ("ANALYZE", "VACUUM" or "VACUUM (ANALYZE)") on each of ``tables``; returns the seconds
    per table.

    On a partitioned table each covers every partition. ANALYZE may run inside a transaction; VACUUM refuses to
    run in a transaction block, so call it in autocommit mode (outside ``transaction.atomic``).
    """
    if command not in ("ANALYZE", "VACUUM", "VACUUM (ANALYZE)"):
        raise ValueError(f"unknown maintenance command {command!r}")
    seconds: dict[str, float] = {}
    with connections[using].cursor() as cursor:
        for table in tables:
            started = time.perf_counter()
            cursor.execute(f"{command} {_quote(table, using)}")
            seconds[table] = time.perf_counter() - started
    return seconds


def row_count(table: str, *, using: str = "default") -> int:
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_quote(table, using)}")
        return int(cursor.fetchone()[0])


def default_partitions(table: str, *, using: str = "default") -> list[str]:
    """The DEFAULT partition(s) of partitioned ``table`` (from ``pg_partitioned_table.partdefid``)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT d.relname FROM pg_partitioned_table p JOIN pg_class d ON d.oid = p.partdefid "
            "WHERE p.partrelid = %s::regclass",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


class Index(NamedTuple):
    """A secondary index (one that backs no constraint) of a filled table or of one of its partitions.

    ``parent``: the partitioned index it is attached to ("" for an index of a plain table, or for the
    partitioned index itself, whose ``definition`` then reads ``ON ONLY <parent table>``).
    """

    table: str
    name: str
    definition: str  # pg_get_indexdef()
    parent: str


def secondary_indexes(tables: Sequence[str], *, using: str = "default") -> list[Index]:
    """The indexes of ``tables`` and of their partitions that back no constraint, in creation (oid) order.

    Primary keys and unique constraints stay during a load (the foreign keys need them); these are the
    indexes that can be dropped before it and built afterwards.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            _WITH_PARTITIONS
            + """
            SELECT t.relname, ic.relname, pg_get_indexdef(ic.oid), COALESCE(pic.relname, '')
            FROM pg_index x
            JOIN pg_class ic ON ic.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            LEFT JOIN pg_inherits ih ON ih.inhrelid = ic.oid
            LEFT JOIN pg_class pic ON pic.oid = ih.inhparent
            WHERE x.indrelid IN (SELECT oid FROM rel)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY ic.oid
            """,
            [list(tables)],
        )
        return [Index(*row) for row in cursor.fetchall()]


def round_trips(index: Index, *, using: str = "default") -> bool:
    """Whether PostgreSQL gives back ``index``'s definition unchanged once it is made again from that text.

    Not always so: ``status IN ('a', 'b')`` is stored as ``status = ANY ((ARRAY['a', 'b'])::text[])``, and that
    text, parsed again, as ``status = ANY (ARRAY[('a')::text, ('b')::text])``; the same predicate, but not the
    same index definition. Tried under a throw-away name: ``ON ONLY`` a partitioned table (nothing is built),
    on a plain table only when it is empty (just truncated), so it costs nothing.
    """
    probe = "demo_data_probe_idx"
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT quote_ident(%s)", [index.name])
        quoted = cursor.fetchone()[0]
        head = f"INDEX {quoted} ON "
        if head not in index.definition:  # pragma: no cover - pg_get_indexdef always reads so
            return False
        cursor.execute(index.definition.replace(head, f"INDEX {probe} ON ", 1))
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [probe])
        again = cursor.fetchone()[0].replace(f"INDEX {probe} ON ", head, 1)
        cursor.execute(f"DROP INDEX {probe}")
    return bool(again == index.definition)


def drop_indexes(indexes: Sequence[Index], *, using: str = "default") -> None:
    """Drop ``indexes`` (a partitioned index takes its partitions' indexes with it)."""
    with connections[using].cursor() as cursor:
        for index in indexes:
            if not index.parent:
                cursor.execute(f"DROP INDEX {_quote(index.name, using)}")


def create_indexes(indexes: Sequence[Index], *, using: str = "default") -> dict[str, float]:
    """Build ``indexes`` (indexes of plain tables or of partitions) from their definitions, each under its own
    name; returns the seconds per index. Partitioned indexes are ``attach_indexes``' work."""
    seconds: dict[str, float] = {}
    with connections[using].cursor() as cursor:
        for index in indexes:
            started = time.perf_counter()
            cursor.execute(index.definition)
            seconds[index.name] = time.perf_counter() - started
    return seconds


def attach_indexes(parents: Sequence[Index], indexes: Sequence[Index], *, using: str = "default") -> None:
    """Create each partitioned index of ``parents`` (``ON ONLY`` the partitioned table, so nothing is built)
    and attach to it its partitions' indexes among ``indexes``, built beforehand: PostgreSQL marks it valid
    once every partition has its index attached."""
    with connections[using].cursor() as cursor:
        for parent in parents:
            cursor.execute(parent.definition)
            for index in indexes:
                if index.parent == parent.name:
                    cursor.execute(
                        f"ALTER INDEX {_quote(parent.name, using)} ATTACH PARTITION {_quote(index.name, using)}"
                    )
