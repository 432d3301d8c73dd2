"""Monthly partition maintenance: rollover, DEFAULT-partition repair, and retention by archive-then-drop.

Plan-then-apply (STYLE.md 2): ``snapshot()`` reads the catalogs, ``plan()`` is a pure function of that snapshot
and the policy, ``apply()`` carries the plan out, one short transaction per month.

Tables come from the floor's registry (``ops.platform.partitioning.registry()``), never from input. A group
is a set of tables partitioned by the same month key whose months must be handled together, listed
**referencing table first**: each claim-line month partition references the claim partition of the same month
through the composite foreign key ``<partition>_claim_fk`` (claim_id, service_date_from), made with the month.

DEFAULT repair (rows that landed in DEFAULT because their month had no partition), in one transaction:
  1. ``SET CONSTRAINTS ALL IMMEDIATE``; lock the group's DEFAULT partitions (ACCESS EXCLUSIVE: no insert can
     land in DEFAULT while rows move; bounded by ``lock_timeout``).
  2. For each table, referencing first: ``CREATE TABLE <t>_pYYYY_MM (LIKE <t> INCLUDING DEFAULTS INCLUDING
     CONSTRAINTS)`` (standalone; no indexes: ATTACH builds the partition indexes), then
     ``WITH moved AS (DELETE FROM <t>_default WHERE key in month RETURNING cols) INSERT INTO new SELECT``.
  3. ATTACH each new table, referenced first, then add the lines' month foreign key to the claims' new partition
     (validated as it is added).
  Why IMMEDIATE: the NO ACTION check of the FK fires when a claim leaves ``claims_claim_default``. Deferred to
  commit it would find the claim gone from that partition and its lines (by then attached) still referencing
  it, and fail. Checked at the end of the claim DELETE, the lines are in their standalone table, outside
  ``claims_claimline``, so nothing references the moved claims; the lines' month key is then validated against
  the claims' new partition. (The other procedure, detaching DEFAULT, fails the FK checks DETACH runs.)
  Limitation: a claim in DEFAULT referenced through ``related_claim`` by a claim of *another* month cannot be
  moved this way; the transaction rolls back, nothing changes, and the run's error names the constraint.

Retention (months older than the policy), per month, in one transaction:
  lock the month's partitions SHARE (reads go on, writes to a years-old month wait), COPY each to
  ``<archive dir>/<parent>/<partition>.copy.gz`` (COPY text format, gzip) while hashing it, re-read the file
  and check its sha256 and row count against ``count(*)``, then DETACH and DROP (referencing table first) and
  record ``PartitionArchive``. Any failure (unwritable directory, mismatch, lock timeout) rolls back: the
  partitions stay attached, the partial files are removed. The file I/O happens inside the transaction on
  purpose: the rows archived must be the rows dropped, and the only locks held meanwhile are on the retired
  partitions; the parent's ACCESS EXCLUSIVE lock (DETACH) is taken after the file is verified, with
  ``lock_timeout``. ``DETACH ... CONCURRENTLY`` is not an option: PostgreSQL refuses it while a DEFAULT
  partition exists.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dateutil.relativedelta import relativedelta
from django.db import connections, transaction
from django.utils import timezone
from psqlextra.partitioning.constants import AUTO_PARTITIONED_COMMENT
from psycopg import sql

from claims.models import Claim
from claims.services.retention import month_retired
from ops import conf
from ops.platform import ddl
from ops.platform.partitioning import (
    Group,
    PartitionedTable,
    existing_partitions,
    month_bounds,
    partition_foreign_keys_add,
    partition_name,
    partitions_ensure,
    registry,
    registry_group,
)

logger = logging.getLogger(__name__)

# DDL waits at most this long for a lock; a busy table makes the month fail (and retry next run) rather than
# queue every query behind the waiting ALTER TABLE.
DDL_LOCK_TIMEOUT = "5s"

_MONTH_SUFFIX = re.compile(r"_p(\d{4})_(\d{2})$")


@dataclass(frozen=True)
class Policy:
    months_ahead: int
    retention_months: Mapping[str, int]  # group name -> full months kept before the current month

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            months_ahead=conf.months_ahead(),
            retention_months={
                "claims": conf.claims_retention_months(),
                "audit": conf.audit_retention_months(),
            },
        )


@dataclass(frozen=True)
class TableState:
    months: frozenset[dt.date]  # months that have a <table>_pYYYY_MM partition
    default_rows: Mapping[dt.date, int]  # month -> rows of that month sitting in DEFAULT


@dataclass(frozen=True)
class Action:
    kind: str  # "create" | "repair" | "retire"
    group: str
    month: dt.date
    tables: tuple[str, ...]  # in processing order (referencing first)
    rows: Mapping[str, int] = field(default_factory=dict)  # repair: rows in DEFAULT per table

    def describe(self) -> str:
        month = f"{self.month:%Y-%m}"
        if self.kind == "create":
            return f"create {month} partition of " + ", ".join(self.tables)
        if self.kind == "repair":
            counts = ", ".join(f"{t}: {n}" for t, n in self.rows.items())
            return f"ALERT rows in DEFAULT for {month} ({counts}): move them into new {month} partitions"
        return f"archive, verify, then detach and drop {month} partitions of " + ", ".join(self.tables)


@dataclass(frozen=True)
class PartitionPlan:
    actions: tuple[Action, ...]

    def of_kind(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]

    def describe(self) -> list[str]:
        return [a.describe() for a in self.actions] or ["nothing to do"]


def plan(
    state: Mapping[str, TableState], *, today: dt.date, policy: Policy, groups: Sequence[Group] | None = None
) -> PartitionPlan:
    """What maintenance would do, from a catalog snapshot (``state``: table -> TableState). Pure.

    * repair: every month with rows in any DEFAULT of the group (alerting: these rows escaped pruning and
      block creating their month);
    * create: this month and the next ``policy.months_ahead`` months, where a table of the group lacks them;
    * retire: months before ``this month - retention`` that still have a partition (never the months repaired
      in the same run).
    """
    this_month = today.replace(day=1)
    actions: list[Action] = []
    for group in registry() if groups is None else groups:
        names = [t.table for t in group.tables]
        states = {n: state.get(n, TableState(frozenset(), {})) for n in names}
        repair_months = sorted({m for s in states.values() for m, n in s.default_rows.items() if n > 0})
        for month in repair_months:
            rows = {n: states[n].default_rows.get(month, 0) for n in names}
            tables = tuple(n for n in names if month not in states[n].months)
            actions.append(Action("repair", group.name, month, tables, rows))
        for i in range(policy.months_ahead + 1):
            month = this_month + relativedelta(months=i)
            missing = tuple(n for n in names if month not in states[n].months)
            if missing and month not in repair_months:
                actions.append(Action("create", group.name, month, missing))
        cutoff = this_month - relativedelta(months=policy.retention_months[group.name])
        old = sorted({m for s in states.values() for m in s.months if m < cutoff} - set(repair_months))
        for month in old:
            tables = tuple(n for n in names if month in states[n].months)
            actions.append(Action("retire", group.name, month, tables))
    return PartitionPlan(tuple(actions))


# -- catalog reads -----------------------------------------------------------------------------------------
def snapshot(*, groups: Sequence[Group] | None = None, using: str = "default") -> dict[str, TableState]:
    """Monthly partitions and DEFAULT row counts per month of every managed table."""
    out: dict[str, TableState] = {}
    with connections[using].cursor() as cursor:
        for group in registry() if groups is None else groups:
            for t in group.tables:
                months = set()
                for name in existing_partitions(t.table, using=using):
                    m = _MONTH_SUFFIX.search(name)
                    if m and name == partition_name(t.table, dt.date(int(m[1]), int(m[2]), 1)):
                        months.add(dt.date(int(m[1]), int(m[2]), 1))
                # A timestamptz key is truncated in UTC: the audit partitions' bounds are midnight UTC.
                key = sql.Identifier(t.key)
                month_expr = (
                    sql.SQL("date_trunc('month', {} AT TIME ZONE 'UTC')::date").format(key)
                    if t.timestamptz
                    else sql.SQL("date_trunc('month', {})::date").format(key)
                )
                cursor.execute(
                    sql.SQL("SELECT {month}, count(*) FROM {default} GROUP BY 1")
                    .format(month=month_expr, default=sql.Identifier(f"{t.table}_default"))
                    .as_string(cursor.connection),
                )
                out[t.table] = TableState(frozenset(months), {m: int(n) for m, n in cursor.fetchall()})
    return out


def _columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum",
        [table],
    )
    return [r[0] for r in cursor.fetchall()]


def _tables(group: str) -> dict[str, PartitionedTable]:
    return {t.table: t for t in registry_group(group).tables}


# -- apply -------------------------------------------------------------------------------------------------
@dataclass
class ApplyResult:
    created: list[str] = field(default_factory=list)
    repaired: dict[str, int] = field(default_factory=dict)  # new partition -> rows moved into it
    archived: list[int] = field(default_factory=list)  # PartitionArchive ids
    failed: list[str] = field(default_factory=list)  # "action: error"

    @property
    def rows(self) -> int:
        return sum(self.repaired.values())

    def as_details(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "repaired": self.repaired,
            "archived": self.archived,
            "failed": self.failed,
        }


def apply(
    partition_plan: PartitionPlan, *, archive_dir: Path | None = None, using: str = "default"
) -> ApplyResult:
    """Carry out ``partition_plan``; each month is its own transaction, a failed month does not stop the rest.

    Raises nothing for a failed month: it is listed in ``failed`` (the job records it, the next run retries).
    """
    result = ApplyResult()
    target = archive_dir or conf.archive_dir()
    for action in partition_plan.actions:
        try:
            if action.kind == "create":
                result.created += _create(action, using=using)
            elif action.kind == "repair":
                logger.warning("partition maintenance: %s", action.describe())
                result.repaired.update(_repair(action, using=using))
            else:
                result.archived += _retire(action, archive_dir=target, using=using)
        except Exception as exc:
            logger.exception("partition maintenance failed: %s", action.describe())
            result.failed.append(f"{action.describe()}: {type(exc).__name__}: {exc}"[:1000])
    return result


def _create(action: Action, *, using: str) -> list[str]:
    return partitions_ensure(group=action.group, months=[action.month], using=using)


def _repair(action: Action, *, using: str) -> dict[str, int]:
    meta = _tables(action.group)
    moved: dict[str, int] = {}
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        defaults = [sql.Identifier(f"{t}_default") for t in action.tables]
        if not defaults:
            return moved
        cursor.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE")
            .format(sql.SQL(", ").join(defaults))
            .as_string(cursor.connection)
        )
        for table in action.tables:  # referencing first
            t = meta[table]
            new = partition_name(table, action.month)
            lo, hi = month_bounds(action.month, timestamptz=t.timestamptz)
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in _columns(cursor, table))
            ddl.partition_create_detached(cursor, parent=table, name=new)  # the owner's function
            cursor.execute(
                sql.SQL(
                    "WITH moved AS (DELETE FROM {default} WHERE {key} >= %s AND {key} < %s RETURNING {cols}) "
                    "INSERT INTO {new} ({cols}) SELECT {cols} FROM moved"
                )
                .format(
                    default=sql.Identifier(f"{table}_default"),
                    key=sql.Identifier(t.key),
                    cols=cols,
                    new=sql.Identifier(new),
                )
                .as_string(cursor.connection),
                [lo, hi],
            )
            moved[new] = cursor.rowcount
        for table in reversed(action.tables):  # referenced first: the lines' FK is validated on attach
            new = partition_name(table, action.month)
            lo, hi = month_bounds(action.month, timestamptz=meta[table].timestamptz)
            # The owner's function, which quotes the bounds as literals (DDL takes no bound parameters).
            ddl.partition_attach(
                cursor, parent=table, name=new, lo=lo, hi=hi, comment=AUTO_PARTITIONED_COMMENT
            )
            # After the referenced month is attached: the key is validated against the moved claims.
            partition_foreign_keys_add(cursor, table=meta[table], partition=new)
    return moved


class _HashingWriter:
    """A binary file wrapper that hashes (sha256) and counts what is written through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


@dataclass(frozen=True)
class ArchiveFile:
    path: Path
    rows: int
    bytes: int
    sha256: str


def archive_partition(cursor: Any, partition: str, path: Path) -> ArchiveFile:
    """COPY one partition (text format) into a gzip file at ``path``; returns rows, compressed bytes, sha256.

    ``cursor`` is a psycopg cursor (COPY TO STDOUT streams; nothing is held in memory).
    Raises OSError when the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("wb") as raw:
        writer = _HashingWriter(raw)
        with gzip.GzipFile(fileobj=writer, mode="wb", mtime=0) as gz:  # type: ignore[call-overload]
            query = sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(partition))
            with cursor.copy(query) as copy:
                for chunk in copy:
                    data = bytes(chunk)
                    rows += data.count(b"\n")
                    gz.write(data)
    return ArchiveFile(path=path, rows=rows, bytes=writer.size, sha256=writer.sha.hexdigest())


def verify_archive(archive: ArchiveFile) -> None:
    """Re-read the file: its sha256 and its row count (one line per row in COPY text format) must match.

    Raises ValueError on any mismatch.
    """
    sha = hashlib.sha256()
    with archive.path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    if sha.hexdigest() != archive.sha256:
        raise ValueError(f"{archive.path}: sha256 mismatch")
    rows = 0
    with gzip.open(archive.path, "rb") as gz:
        for block in iter(lambda: gz.read(1 << 20), b""):
            rows += block.count(b"\n")
    if rows != archive.rows:
        raise ValueError(f"{archive.path}: {rows} rows read back, {archive.rows} written")


# A group's own rows about a month that live outside its partitions, deleted in the transaction that drops them.
_RETIRED: dict[str, Callable[..., object]] = {Claim.partition_group: month_retired}


def _retire(action: Action, *, archive_dir: Path, using: str) -> list[int]:
    from ops.models import PartitionArchive

    meta = _tables(action.group)
    connection = connections[using]
    written: list[Path] = []
    ids: list[int] = []
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'")
            names = [partition_name(t, action.month) for t in action.tables]
            for table, name in zip(action.tables, names, strict=True):
                ddl.partition_lock_share(cursor, parent=table, name=name)  # the owner's function
            raw = connection.connection
            assert raw is not None
            records = []
            for table, name in zip(action.tables, names, strict=True):
                path = archive_dir / table / f"{name}.copy.gz"
                written.append(path)
                with raw.cursor() as pg:
                    archive = archive_partition(pg, name, path)
                verify_archive(archive)
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)).as_string(raw))
                (count,) = cursor.fetchone()
                if count != archive.rows:
                    raise ValueError(f"{name}: {count} rows in the table, {archive.rows} in the archive")
                lo, hi = month_bounds(action.month, timestamptz=meta[table].timestamptz)
                records.append(
                    PartitionArchive(
                        parent_table=table,
                        partition_table=name,
                        range_from=lo,
                        range_to=hi,
                        rows=archive.rows,
                        bytes=archive.bytes,
                        sha256=archive.sha256,
                        path=str(path),
                        columns=_columns(cursor, name),
                        archived_at=timezone.now(),
                    )
                )
            for table, name in zip(action.tables, names, strict=True):  # referencing first
                # Empty the archived partition first: claims point at claims of the same month (duplicates,
                # replacements, CLM05-3), and PostgreSQL checks a self-referencing foreign key on DETACH against
                # every row, those inside the partition included. Deleting them in one statement removes the
                # references with the referenced rows; a reference from a month that stays still fails here.
                # Immediate, so no deferred FK check is left pending on a table about to be dropped.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                ddl.partition_drop(
                    cursor, parent=table, name=name
                )  # DELETE, DETACH, DROP: the owner's function
            retired = _RETIRED.get(action.group)
            if retired is not None:
                retired(action.month, using=using)  # what the group keeps of the month outside its partitions
            for record in records:
                record.save(using=using)
                ids.append(record.pk)
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return ids
