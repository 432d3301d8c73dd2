"""Index bloat estimate and ``REINDEX INDEX CONCURRENTLY`` of the indexes past a threshold.

Bloat is measured with pgstattuple's ``pgstatindex()`` (contrib; created by migration ops 0004), which reads
the whole index: B-tree leaf indexes of at least ``min_bytes`` only. Estimated bloat, in percent::

    bloat_pct = max(0, 1 - avg_leaf_density / 90) * 100

where 90 is the default B-tree fillfactor (a freshly built index packs leaves ~90 % full). A partitioned
index is never rebuilt as a whole: each partition's index is measured and rebuilt on its own (REINDEX
CONCURRENTLY works per leaf index and cannot run inside a transaction block, so the apply runs in
autocommit). PostgreSQL docs: "pgstattuple", "REINDEX" (Rebuilding Indexes Concurrently).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections
from psycopg import sql

from ops.platform import ddl

logger = logging.getLogger(__name__)

BTREE_FILLFACTOR = 90.0


@dataclass(frozen=True)
class IndexBloat:
    index: str
    table: str
    bytes: int
    avg_leaf_density: float  # percent

    @property
    def bloat_pct(self) -> float:
        return round(max(0.0, 1 - self.avg_leaf_density / BTREE_FILLFACTOR) * 100, 1)

    def describe(self) -> str:
        return (
            f"REINDEX INDEX CONCURRENTLY {self.index} (on {self.table}, {self.bytes / 1048576:.1f} MiB, "
            f"~{self.bloat_pct}% bloat, leaf density {self.avg_leaf_density:.0f}%)"
        )


def pgstattuple_available(*, using: str = ddl.OWNER_ALIAS) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple'")
        return cursor.fetchone() is not None


def index_bloat(
    *, min_bytes: int, tables: Sequence[str] | None = None, using: str = ddl.OWNER_ALIAS
) -> list[IndexBloat]:
    """Measured bloat of every valid B-tree leaf index of at least ``min_bytes`` in the public schema.

    ``tables`` narrows to those tables (tests). Returns [] when pgstattuple is not installed.
    """
    if not pgstattuple_available(using=using):
        logger.warning("pgstattuple is not installed: index bloat cannot be measured")
        return []
    query = """
        SELECT i.relname, t.relname, pg_relation_size(i.oid), s.avg_leaf_density
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = i.relnamespace
        JOIN pg_am am ON am.oid = i.relam
        CROSS JOIN LATERAL pgstatindex(i.oid::regclass) s
        WHERE n.nspname = 'public' AND i.relkind = 'i' AND am.amname = 'btree' AND x.indisvalid
          AND pg_relation_size(i.oid) >= %s
          AND (%s::text[] IS NULL OR t.relname = ANY(%s::text[]))
        ORDER BY pg_relation_size(i.oid) DESC
    """
    names = list(tables) if tables is not None else None
    with connections[using].cursor() as cursor:
        cursor.execute(query, [min_bytes, names, names])
        return [IndexBloat(r[0], r[1], int(r[2]), float(r[3])) for r in cursor.fetchall()]


def plan(stats: Sequence[IndexBloat], *, threshold_pct: float, min_bytes: int) -> list[IndexBloat]:
    """The indexes to rebuild: at least ``min_bytes`` and more than ``threshold_pct`` bloated. Pure."""
    return [s for s in stats if s.bytes >= min_bytes and s.bloat_pct > threshold_pct]


def reindex(index: str, *, using: str = ddl.OWNER_ALIAS) -> None:
    """``REINDEX INDEX CONCURRENTLY`` one index, in autocommit. Raises DatabaseError when it fails.

    A failed concurrent rebuild can leave an invalid ``<index>_ccnew`` behind; PostgreSQL's docs say to drop
    it. The session lock_timeout keeps the short locks REINDEX CONCURRENTLY takes from queueing writers.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("REINDEX CONCURRENTLY cannot run inside a transaction block")
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")
        try:
            cursor.execute(
                sql.SQL("REINDEX INDEX CONCURRENTLY {}")
                .format(sql.Identifier(index))
                .as_string(cursor.connection)
            )
        finally:
            cursor.execute("RESET lock_timeout")
