"""Monthly range partitions for the claim tables.

Two ways round django-postgres-extra bugs on Django 5.2 live here (see ../shared/STACK.md):

* ``PlainPkPartitionedModelMeta`` stops psqlextra adding a ``CompositePrimaryKey`` (which fails Django's
  checks and cannot be registered in the admin). Django sees a plain ``id`` primary key; the migration
  declares the table's real ``PRIMARY KEY (id, <partition key>)`` that PostgreSQL requires on a partitioned table.
* ``MonthStartStrategy`` truncates partition bounds to midnight on the 1st (upstream issue #269 puts the
  current hour into the bounds).

Partitions are named ``<table>_pYYYY_MM`` and cover ``[first of month, first of next month)``
(PostgreSQL docs, "Table Partitioning", 5.11.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterable
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import connections, transaction
from psqlextra.backend.schema import PostgresSchemaEditor
from psqlextra.models import PostgresPartitionedModel
from psqlextra.models.partitioned import PostgresPartitionedModelMeta
from psqlextra.partitioning import PostgresPartitioningManager
from psqlextra.partitioning.config import PostgresPartitioningConfig
from psqlextra.partitioning.constants import AUTO_PARTITIONED_COMMENT
from psqlextra.partitioning.current_time_strategy import PostgresCurrentTimePartitioningStrategy
from psqlextra.partitioning.time_partition import PostgresTimePartition
from psqlextra.partitioning.time_partition_size import PostgresTimePartitionSize

PARTITION_NAME_FORMAT = "p%Y_%m"
# How far back `pgpartition` creates monthly partitions: the demo and benchmark data span 24 months.
MONTHS_BACK = 24
# Future months kept ready so inserts never fall into DEFAULT (issue 5 raises this to an alerting policy).
MONTHS_AHEAD = 3


class PlainPkPartitionedModelMeta(PostgresPartitionedModelMeta):
    """Partitioned-model metaclass that leaves Django's plain ``id`` primary key alone."""

    @classmethod
    def _create_primary_key(cls, attrs: dict[str, Any], partitioning_key: Any) -> None:
        # The composite PRIMARY KEY (id, key) is declared in the migration instead (STACK.md bug 1).
        return None


def month_bounds(start: dt.date, *, timestamptz: bool = False) -> tuple[str, str]:
    """``[first of month, first of next month)`` as bound literals.

    A DATE key gets ISO dates; a timestamptz key (the audit log) gets midnight UTC with an explicit offset, so
    the bound never depends on the session's time zone (STACK.md bug 2).
    """
    first = start.replace(day=1)
    after = first + relativedelta(months=1)
    if timestamptz:
        return f"{first.isoformat()} 00:00:00+00", f"{after.isoformat()} 00:00:00+00"
    return first.isoformat(), after.isoformat()


class _MonthPartition(PostgresTimePartition):
    """A month partition whose bounds are midnight on the 1st (dates, or midnight UTC for timestamptz)."""

    def __init__(self, start: dt.date, *, timestamptz: bool = False) -> None:
        start_dt = dt.datetime(start.year, start.month, 1)
        super().__init__(
            size=PostgresTimePartitionSize(months=1),
            start_datetime=start_dt,
            name_format=PARTITION_NAME_FORMAT,
        )
        self.from_values, self.to_values = month_bounds(start_dt.date(), timestamptz=timestamptz)


class MonthStartStrategy(PostgresCurrentTimePartitioningStrategy):
    """Monthly partitions from ``months_back`` before this month to ``months_ahead`` after it.

    Nothing is ever deleted by this strategy: retention with archiving is a separate job (issue 5), never
    psqlextra's plain ``DROP TABLE``.
    """

    def __init__(
        self, months_back: int = MONTHS_BACK, months_ahead: int = MONTHS_AHEAD, *, timestamptz: bool = False
    ) -> None:
        super().__init__(size=PostgresTimePartitionSize(months=1), count=months_back + months_ahead + 1)
        self.months_back = months_back
        self.timestamptz = timestamptz

    def to_create(self) -> Generator[PostgresTimePartition, None, None]:
        today = dt.datetime.now(dt.UTC).date()
        first = today.replace(day=1) - relativedelta(months=self.months_back)
        for i in range(self.count):
            yield _MonthPartition(first + relativedelta(months=i), timestamptz=self.timestamptz)

    def to_delete(self) -> Generator[PostgresTimePartition, None, None]:
        yield from ()


def _partitioned_models() -> list[Any]:
    from claims.models import Claim, ClaimLine

    return [Claim, ClaimLine]


# The audit log starts when the platform does: only last month onwards is pre-created.
AUDIT_MONTHS_BACK = 1


def _build_manager() -> PostgresPartitioningManager:
    from ops.models import AuditEvent

    configs = [
        PostgresPartitioningConfig(model=model, strategy=MonthStartStrategy())
        for model in _partitioned_models()
    ]
    configs.append(
        PostgresPartitioningConfig(
            model=AuditEvent, strategy=MonthStartStrategy(months_back=AUDIT_MONTHS_BACK, timestamptz=True)
        )
    )
    return PostgresPartitioningManager(configs)


class _LazyManager:
    """psqlextra imports the manager from settings at command time; models are not ready at import."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_build_manager(), name)


manager = _LazyManager()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


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


def ensure_month_partitions(months: Iterable[dt.date], *, using: str = "default") -> list[str]:
    """Create the monthly partitions of every claim table for ``months`` that do not exist yet.

    Ingest calls this before it opens the file's data transaction, so a claim of any service month lands in
    its own partition rather than DEFAULT. Each partition is created in its own short transaction.

    Returns the names of the partition tables created (empty when all existed).
    Raises ``django.db.DatabaseError`` when DEFAULT already holds rows of that month (PostgreSQL refuses to
    create a partition that the DEFAULT partition's rows would violate).
    """
    created: list[str] = []
    wanted = sorted({month_start(m) for m in months})
    for model in _partitioned_models():
        created += ensure_model_month_partitions(model, wanted, using=using)
    return created


def ensure_model_month_partitions(
    model: Any, months: Iterable[dt.date], *, timestamptz: bool = False, using: str = "default"
) -> list[str]:
    """``ensure_month_partitions`` for one partitioned model (the audit log passes ``timestamptz=True``)."""
    created: list[str] = []
    wanted = sorted({month_start(m) for m in months})
    if not wanted:
        return created
    connection = connections[using]
    table = model._meta.db_table
    present = existing_partitions(table, using=using)
    for month in wanted:
        partition = _MonthPartition(month, timestamptz=timestamptz)
        full_name = f"{table}_{partition.name()}"
        if full_name in present:
            continue
        with transaction.atomic(using=using), connection.schema_editor(atomic=False) as editor:
            assert isinstance(editor, PostgresSchemaEditor)  # ENGINE is psqlextra.backend
            # Serialise concurrent ingests that need the same month.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [full_name])
            if full_name in existing_partitions(table, using=using):
                continue
            editor.add_range_partition(
                model,
                partition.name(),
                partition.from_values,
                partition.to_values,
                comment=AUTO_PARTITIONED_COMMENT,
            )
        created.append(full_name)
    return created


class PlainPkPartitionedModel(PostgresPartitionedModel, metaclass=PlainPkPartitionedModelMeta):
    """Abstract base of the claim tables.

    Migrations must name this class in ``bases``: psqlextra renders migration states with its own base (and so
    its composite-key metaclass) otherwise, and a foreign key to a composite-pk model gets no column at all.
    """

    class Meta:
        abstract = True
        base_manager_name = "objects"
