"""The schema changes the running platform makes, through the owner's functions (migration ops 0009).

The app role owns no table, so it may not create, attach, detach or drop partitions, refresh a materialized view or
ANALYZE (PostgreSQL 15 leaves all of these to the owner). Each is a ``SECURITY DEFINER`` function owned by the
schema's owner that checks its arguments; ``ops.roles.grants_apply`` lets the app role execute exactly
``FUNCTIONS``. The calls below run on the caller's connection and in its transaction.

Errors: ``django.db.DatabaseError`` from PostgreSQL, among them ``wrong_object_type`` (the parent is not
partitioned, the view is not materialized) and ``invalid_name`` (a partition name not ``<parent>_pYYYY_MM``).
"""

from __future__ import annotations

from typing import Any

# The connection alias of the schema's owner (settings DATABASES["owner"]): only for what PostgreSQL 15 leaves to a
# table's owner and that cannot run inside a function, so not through the functions below: VACUUM (ops/cleanup.py)
# and REINDEX INDEX CONCURRENTLY with its pgstatindex estimate (ops/reindex.py). Autocommit, its own connection.
OWNER_ALIAS = "owner"

# Name and argument types of each function, as GRANT EXECUTE needs them.
FUNCTIONS = (
    "platform_partition_create(regclass, text, text, text, text)",
    "platform_partition_create_detached(regclass, text)",
    "platform_partition_attach(regclass, text, text, text, text)",
    "platform_partition_drop(regclass, text)",
    "platform_partition_lock_share(regclass, text)",
    "platform_matview_refresh(regclass, boolean)",
    "platform_analyze(regclass)",
    "platform_partition_foreign_key(regclass, text, text[], regclass, text[])",
)


def partition_create(cursor: Any, *, parent: str, name: str, lo: str, hi: str, comment: str) -> None:
    """``CREATE TABLE name PARTITION OF parent FOR VALUES FROM (lo) TO (hi)`` and its comment."""
    cursor.execute(
        "SELECT platform_partition_create(%s::regclass, %s::text, %s::text, %s::text, %s::text)",
        [parent, name, lo, hi, comment],
    )


def partition_create_detached(cursor: Any, *, parent: str, name: str) -> None:
    """``CREATE TABLE name (LIKE parent INCLUDING DEFAULTS INCLUDING CONSTRAINTS)``: a partition to be, to fill
    before ``partition_attach``."""
    cursor.execute("SELECT platform_partition_create_detached(%s::regclass, %s::text)", [parent, name])


def partition_attach(cursor: Any, *, parent: str, name: str, lo: str, hi: str, comment: str) -> None:
    """``ALTER TABLE parent ATTACH PARTITION name FOR VALUES FROM (lo) TO (hi)`` and its comment."""
    cursor.execute(
        "SELECT platform_partition_attach(%s::regclass, %s::text, %s::text, %s::text, %s::text)",
        [parent, name, lo, hi, comment],
    )


def partition_drop(cursor: Any, *, parent: str, name: str) -> None:
    """Empty partition ``name`` (one DELETE, so references inside it go with the rows), detach it from
    ``parent`` and drop it. Refuses the DEFAULT partition."""
    # Immediate, so no deferred foreign-key check of the DELETE is left pending on a table about to be dropped.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SELECT platform_partition_drop(%s::regclass, %s::text)", [parent, name])


def partition_lock_share(cursor: Any, *, parent: str, name: str) -> None:
    """``LOCK TABLE name IN SHARE MODE`` until the transaction ends: no row of the partition changes meanwhile
    (its archive is being written). A mode above ROW EXCLUSIVE needs UPDATE or DELETE on the table itself,
    which the app role has on no partition."""
    cursor.execute("SELECT platform_partition_lock_share(%s::regclass, %s::text)", [parent, name])


def matview_refresh(cursor: Any, *, view: str, concurrently: bool) -> None:
    """``REFRESH MATERIALIZED VIEW [CONCURRENTLY] view``."""
    cursor.execute("SELECT platform_matview_refresh(%s::regclass, %s::boolean)", [view, concurrently])


def analyze(cursor: Any, *, table: str) -> None:
    """``ANALYZE table``."""
    cursor.execute("SELECT platform_analyze(%s::regclass)", [table])


def partition_foreign_key(
    cursor: Any,
    *,
    partition: str,
    name: str,
    columns: tuple[str, ...],
    referenced: str,
    referenced_columns: tuple[str, ...],
) -> None:
    """``ALTER TABLE partition ADD CONSTRAINT name FOREIGN KEY (columns) REFERENCES referenced
    (referenced_columns) DEFERRABLE INITIALLY DEFERRED``: both must be partitions (or tables to be attached)."""
    cursor.execute(
        "SELECT platform_partition_foreign_key(%s::regclass, %s::text, %s::text[], %s::regclass, %s::text[])",
        [partition, name, list(columns), referenced, list(referenced_columns)],
    )
