"""Monthly range partitions: the partitioned-model base, the one registry, and the one creator.

Who creates next month's partition? ``partitions_ensure`` in this module, and nothing else. Its callers:

* the daily rollover job (``ops.partitions``, run by beat and by ``make setup`` through
  ``manage.py partitions_maintain``) keeps this month and ``OPS_PARTITION_MONTHS_AHEAD`` months ahead;
* ingest and the synthetic-data generator ask for the months of the claims they are about to write;
* the test session (``conftest.py``) runs the same rollover job, then asks for the past months its data uses.

The registry is every concrete model derived from ``PlainPkPartitionedModel``, grouped by its
``partition_group``: tables of one group share a month key and are created, repaired and retired together
(``registry()``). Partitions are named ``<table>_pYYYY_MM`` and cover ``[first of month, first of next month)``
(PostgreSQL docs, "Table Partitioning", 5.11.2).

Two ways round django-postgres-extra bugs on Django 5.2 live here (see ../shared/STACK.md):

* ``PlainPkPartitionedModelMeta`` stops psqlextra adding a ``CompositePrimaryKey`` (which fails Django's
  checks and cannot be registered in the admin). Django sees a plain ``id`` primary key; the migration
  declares the table's real ``PRIMARY KEY (id, <partition key>)`` that PostgreSQL requires on a partitioned table.
* Bounds are midnight on the 1st (``month_bounds``): psqlextra's own strategy puts the current hour into them
  (upstream issue #269), so its ``pgpartition`` command is not used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.db import connections, models, transaction
from psqlextra.models import PostgresPartitionedModel
from psqlextra.models.partitioned import PostgresPartitionedModelMeta
from psqlextra.partitioning.constants import AUTO_PARTITIONED_COMMENT

from ops.platform import ddl, locks


class PlainPkPartitionedModelMeta(PostgresPartitionedModelMeta):
    """Partitioned-model metaclass that leaves Django's plain ``id`` primary key alone."""

    @classmethod
    def _create_primary_key(cls, attrs: dict[str, Any], partitioning_key: Any) -> None:
        # The composite PRIMARY KEY (id, key) is declared in the migration instead (STACK.md bug 1).
        return None


@dataclass(frozen=True)
class MonthForeignKey:
    """A foreign key from each month partition of a table to the same month's partition of ``to_table``.

    Declared on the referencing model (``month_foreign_keys``) in place of one foreign key to the partitioned
    parent. Both tables are partitioned by the same month key, so a row and the row it references always share
    a month, and a per-month key checks the same thing. The point is cost: PostgreSQL 15 checks a key that
    references a partitioned table with a generic plan that locks and prunes every partition, for every row
    (11.7 s of a 44.5 s, 100,000-claim ingest at 29 months, growing with the months); a key between two plain
    partitions is one index probe. PostgreSQL docs, "Table Partitioning" 5.11.2.3 and "ALTER TABLE".
    """

    columns: tuple[str, ...]
    to_table: str
    to_columns: tuple[str, ...]
    suffix: str  # the constraint is "<partition>_<suffix>"


class PlainPkPartitionedModel(PostgresPartitionedModel, metaclass=PlainPkPartitionedModelMeta):
    """Abstract base of the range-partitioned tables; each concrete model names its ``partition_group``.

    Migrations must name this class in ``bases``: psqlextra renders migration states with its own base (and so
    its composite-key metaclass) otherwise, and a foreign key to a composite-pk model gets no column at all.
    """

    # Tables of one group share a month key and are created, repaired and retired together.
    partition_group: ClassVar[str] = ""
    # Keys made on each month partition as it is created (``partition_foreign_keys_add``).
    month_foreign_keys: ClassVar[tuple[MonthForeignKey, ...]] = ()

    class Meta:
        abstract = True
        base_manager_name = "objects"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def partition_name(table: str, month: dt.date) -> str:
    """``claims_claim`` and 2026-02 -> ``claims_claim_p2026_02``."""
    return f"{table}_p{month.year}_{month.month:02d}"


def month_bounds(start: dt.date, *, timestamptz: bool = False) -> tuple[str, str]:
    """``[first of month, first of next month)`` as bound literals.

    A DATE key gets ISO dates; a timestamptz key (the audit log) gets midnight UTC with an explicit offset, so
    the bound never depends on the session's time zone (STACK.md bug 2).
    """
    first = month_start(start)
    after = first + relativedelta(months=1)
    if timestamptz:
        return f"{first.isoformat()} 00:00:00+00", f"{after.isoformat()} 00:00:00+00"
    return first.isoformat(), after.isoformat()


# -- the registry ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartitionedTable:
    """One partitioned table: its model, table name, month key column, and whether that key is timestamptz."""

    model: type[models.Model]
    table: str
    key: str
    timestamptz: bool = False
    month_foreign_keys: tuple[MonthForeignKey, ...] = ()


@dataclass(frozen=True)
class Group:
    """Tables whose months are handled together, referencing table first (claim lines before claims)."""

    name: str
    tables: tuple[PartitionedTable, ...]


def _table(model: type[PlainPkPartitionedModel]) -> PartitionedTable:
    (key,) = model._partitioning_meta.key
    field = model._meta.get_field(key)
    return PartitionedTable(
        model,
        model._meta.db_table,
        key,
        timestamptz=isinstance(field, models.DateTimeField),
        month_foreign_keys=model.month_foreign_keys,
    )


def _references(model: type[models.Model], others: Iterable[type[models.Model]]) -> bool:
    targets = {f.related_model for f in model._meta.concrete_fields if f.is_relation}
    return any(other in targets for other in others if other is not model)


def partition_foreign_keys_add(cursor: Any, *, table: PartitionedTable, partition: str) -> list[str]:
    """Add ``table``'s month foreign keys to its partition ``partition`` (``<table>_pYYYY_MM`` or
    ``<table>_default``), each referencing the same-named partition of the referenced table, which must exist.

    Runs in the caller's transaction, through the owner's function. Returns the constraint names added.
    Raises ``django.db.DatabaseError`` when a row of the partition has no referenced row.
    """
    suffix = partition.removeprefix(table.table)
    added = []
    for fk in table.month_foreign_keys:
        name = f"{partition}_{fk.suffix}"
        ddl.partition_foreign_key(
            cursor,
            partition=partition,
            name=name,
            columns=fk.columns,
            referenced=f"{fk.to_table}{suffix}",
            referenced_columns=fk.to_columns,
        )
        added.append(name)
    return added


def registry() -> tuple[Group, ...]:
    """Every partitioned table of the installed apps, by group (sorted by name), referencing tables first.

    Keyed by model: a model joins by deriving from ``PlainPkPartitionedModel`` with a ``partition_group``.
    Raises ``ValueError`` for a partitioned model with no group (it would never get a partition).
    """
    by_group: dict[str, list[type[PlainPkPartitionedModel]]] = {}
    for model in apps.get_models():
        # A proxy (the examiners' work queue over claims) reads its concrete model's table: not a table of its own.
        if issubclass(model, PlainPkPartitionedModel) and not model._meta.proxy:
            if not model.partition_group:
                raise ValueError(f"{model._meta.label} has no partition_group")
            by_group.setdefault(model.partition_group, []).append(model)
    groups = []
    for name in sorted(by_group):
        peers = sorted(by_group[name], key=lambda m: m._meta.db_table)
        # Referencing first: a table whose rows point at another table of the group is emptied and dropped
        # before it and created after it (the composite FK claimline -> claim).
        members = sorted(peers, key=lambda m: not _references(m, peers))
        groups.append(Group(name, tuple(_table(m) for m in members)))
    return tuple(groups)


def registry_group(name: str) -> Group:
    """The registry's group ``name``. Raises ``KeyError`` for an unknown group."""
    for g in registry():
        if g.name == name:
            return g
    raise KeyError(name)


def existing_partitions(table: str, *, using: str = "default") -> set[str]:
    """Names of the partitions attached to ``table`` (from ``pg_inherits``)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = %s
            """,
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


# -- the creator ----------------------------------------------------------------------------------------------
def partitions_ensure(*, group: str, months: Iterable[dt.date], using: str = "default") -> list[str]:
    """Create the monthly partitions of every table of ``group`` for ``months`` where they do not exist yet.

    The one creator of partitions. Each partition is created in its own short transaction under the advisory
    lock ``partition:<name>`` (two ingests needing the same month serialise on it), referenced table first, so
    the composite foreign key of the referencing table finds its target partition.

    Returns the names of the partition tables created (empty when all existed).
    Raises ``KeyError`` for an unknown group, and ``django.db.DatabaseError`` when DEFAULT already holds rows of
    that month (PostgreSQL refuses to create a partition that the DEFAULT partition's rows would violate: the
    rollover job's DEFAULT repair moves them first).
    """
    created: list[str] = []
    wanted = sorted({month_start(m) for m in months})
    if not wanted:
        return created
    connection = connections[using]
    for t in reversed(registry_group(group).tables):
        present = existing_partitions(t.table, using=using)
        for month in wanted:
            name = partition_name(t.table, month)
            if name in present:
                continue
            with transaction.atomic(using=using), connection.cursor() as cursor:
                locks.xact_lock(f"partition:{name}", using=using)
                if name in existing_partitions(t.table, using=using):
                    continue
                lo, hi = month_bounds(month, timestamptz=t.timestamptz)
                # The owner's function: the app role may not create tables (ops.platform.ddl).
                ddl.partition_create(
                    cursor, parent=t.table, name=name, lo=lo, hi=hi, comment=AUTO_PARTITIONED_COMMENT
                )
                # Created referenced table first, so the month's referenced partition is there.
                partition_foreign_keys_add(cursor, table=t, partition=name)
            created.append(name)
    return created


def partitions_drop_empty(*, group: str, names: Iterable[str], using: str = "default") -> list[str]:
    """Drop the partitions ``names`` of ``group`` that hold no row, referencing tables first.

    For a writer that created partitions for rows it then could not commit (an ingest whose file failed): the
    partitions it made are dropped again, so a failed file leaves nothing behind. A partition that holds rows
    (another writer's) is kept. Each drop is its own short transaction under the advisory lock
    ``partition:<name>``. Returns the names dropped. Raises ``KeyError`` for an unknown group.
    """
    wanted = set(names)
    dropped: list[str] = []
    connection = connections[using]
    for t in registry_group(group).tables:  # referencing first: lines before the claims they point at
        for name in sorted(n for n in wanted if n.startswith(f"{t.table}_p")):
            with transaction.atomic(using=using), connection.cursor() as cursor:
                locks.xact_lock(f"partition:{name}", using=using)
                if name not in existing_partitions(t.table, using=using):
                    continue
                year, month = name.removeprefix(f"{t.table}_p").split("_")
                lo, hi = month_bounds(dt.date(int(year), int(month), 1), timestamptz=t.timestamptz)
                # Through the parent (pruned to the one partition): the app role has no grant on partitions.
                cursor.execute(
                    f'SELECT EXISTS (SELECT 1 FROM "{t.table}" WHERE "{t.key}" >= %s AND "{t.key}" < %s)',
                    [lo, hi],
                )
                if cursor.fetchone()[0]:
                    continue
                ddl.partition_drop(cursor, parent=t.table, name=name)
            dropped.append(name)
    return dropped
