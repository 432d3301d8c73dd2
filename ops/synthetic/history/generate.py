"""``demo_data_generate``: replace all claims, members and providers data with a synthetic plan.

One transaction holds the whole replacement: the ingest advisory lock, the foreign keys and the secondary
indexes of the filled tables dropped, TRUNCATE, every COPY, the indexes built and the keys re-added under their
own names (each key validating all rows in one pass), and a check that the keys and indexes are exactly as
found. PostgreSQL's DDL and TRUNCATE are transactional, so any failure (a COPY error, a key that does not
validate, Ctrl-C) rolls everything back: nobody ever sees a half-loaded database or a table without its keys or
indexes. TRUNCATE in the same transaction also lets every COPY write frozen, all-visible rows (COPY FREEZE).
The filled tables are locked (ACCESS EXCLUSIVE) for the whole load; this is a demo / benchmark tool.

Who does what, on the two cores: the claims are generated in ``PARTS`` (2) parts split by member
(``claim_rows.ClaimRows``), the first in this thread, the second in a forked child that streams its chunks back
(``workers.Streamed``; a thread here receives them); generation is pure Python, the longest path, and one process
could use only one core. A loading thread feeds COPY with both parts' chunks and runs the DDL on a connection of
its own, mostly waiting for PostgreSQL without the GIL; another forked child encrypts the members' PII. Every
child is forked before any thread starts. Indexes are built and keys re-added table by table as soon as a table
is complete: the reference data when the first claim arrives, a month's partitions once nearly all its claims are
written (``claim_rows.INDEX_WHEN_LEFT``; a claim is written when its story is complete, some months later) and
their keys when all are (a month being complete once both parts say so); so PostgreSQL builds most of them while
the generator is still running. A table is ANALYZEd as it completes, before its keys validate, so each
validation's anti-join is planned on statistics. What is left after the last COPY (history and CAS rows, the last
months) is built with parallel workers. VACUUM (ANALYZE) runs after the commit on two connections.

Measured before the two parts, at 1,000,000 claims on the 2-core machine with other work beside it (PostgreSQL
15, shared_buffers 128 MB, same --seed/--as-of, identical tables): 187 s before indexes were built after the load
(COPY 123 s of it, every model index maintained row by row) and 113-145 s with them built so (generation 92-116 s;
after the last COPY ~14 s: indexes 4.6 s, keys 1.1 s, VACUUM ANALYZE 7 s). 10,000,000 claims: 25.6 min
(generation 22 min, another engineer's tests beside it; indexes 66 s, keys 87 s and VACUUM ANALYZE 14 s after it),
peak RSS 4.7 GB, 26 GB database; most of the keys' 87 s were the claims' parent-level keys validated without
statistics (on the analyzed database the member key or the related-claim key takes 3.6 s each), hence the
ANALYZE as each table completes.

With the two parts, on a machine shared with a 10M generation, test suites and 837 generation all along (load
average 4-6 on 2 cores, so wall times are far above a quiet machine's; CPU as user + sys of the command and its
children, and of the PostgreSQL backends): 1,000,000 claims, seed 1, as-of 2026-11-15, in 414 s (602 s for the
single generator just before, under the same kind of load); Python 268 s CPU (270 s before), PostgreSQL 165 s;
after the last COPY indexes 16 s, ANALYZE 1.3 s, keys 2.7 s (22.5 s before), VACUUM ANALYZE 26 s. 2,000,000
claims in 926 s (a test suite beside it for 9 of its minutes): Python 569 s CPU, PostgreSQL ~305 s; indexes 29 s,
ANALYZE 1.3 s, keys 5.0 s, VACUUM ANALYZE 24 s after the last COPY; peak RSS 1.07 GB. Each part's generation
is half the one generator's CPU (200,000 claims in-process: 43-46 s for one, 20-23 s per part), so the
generator is no longer the longest path: both cores are. PostgreSQL (COPY, the indexes built during the load)
takes ~0.55 s of CPU per second of the generators', so at 10,000,000 claims the load needs ~22 + ~12 CPU-min
during generation, ~16-17 min on two cores, plus ~1 min before it and ~1.5-2 min after it: ~18-20 min, not yet
the 15 min wanted (projected, not measured at 10 M).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from dateutil.relativedelta import relativedelta
from django.db import connections, transaction

from claims.models import Claim
from claims.services.ingest import INGEST_LOCK, INGEST_LOCK_TIMEOUT
from ops.platform import ddl, locks
from ops.platform.partitioning import existing_partitions, partition_name, partitions_ensure
from ops.synthetic.history import db
from ops.synthetic.history.claim_rows import (
    ACCUMULATOR_TABLE,
    ADJUSTMENT_TABLE,
    BATCH_TABLE,
    CLAIM_TABLE,
    HISTORY_TABLE,
    LINE_TABLE,
    MAX_PARTS,
    NUMBER_TABLE,
    ClaimRows,
    Diagnoses,
    PartDone,
    batches_chunk,
    diagnosis_tables,
)
from ops.synthetic.history.copy_text import CopyChunk, Sealed
from ops.synthetic.history.people import TABLES as PEOPLE_TABLES
from ops.synthetic.history.people import People, PiiRows, build_people, pii_chunk
from ops.synthetic.history.workers import Deferred, Streamed

# Months of service dates before the current month (the window starts on the 1st of that month).
WINDOW_MONTHS = 24
# Every table this command fills, children before parents. TRUNCATE empties them all (CASCADE reaches any
# other table with a foreign key to them).
TABLES: tuple[str, ...] = (
    NUMBER_TABLE,
    ACCUMULATOR_TABLE,
    ADJUSTMENT_TABLE,
    HISTORY_TABLE,
    LINE_TABLE,
    CLAIM_TABLE,
    BATCH_TABLE,
    PEOPLE_TABLES["enrollments"],
    PEOPLE_TABLES["pii"],
    PEOPLE_TABLES["networks"],
    PEOPLE_TABLES["members"],
    PEOPLE_TABLES["providers"],
    PEOPLE_TABLES["specialties"],
    PEOPLE_TABLES["plans"],
)
# Tables whose ``id`` is an identity column (MemberPII's key is member_id, ClaimNumber's claim_id).
_SEQUENCED = tuple(t for t in TABLES if t not in (PEOPLE_TABLES["pii"], NUMBER_TABLE))
# The partitioned tables filled month by month, whose partitions are indexed as each month is complete.
_PARTITIONED = (CLAIM_TABLE, LINE_TABLE)
# Index builds: sorts in memory at these scales (the session default is 64 MB), and PostgreSQL's parallel
# B-tree build once the generator has finished and left the second core free.
_MAINTENANCE_WORK_MEM = "512MB"
_TAIL_WORKERS = 2
# Chunks the generator may run ahead of the load (a flush of ~25,000 claims is ~6 chunks, ~25 MB in all): room
# for it to go on while the load builds a month's indexes.
_HANDOFF_CHUNKS = 24
_POLL = 0.2
# Connections that VACUUM (ANALYZE) after the commit, one table each at a time (2 cores).
_MAINTENANCE_CONNECTIONS = 2

# Parts of the claims generated side by side (``claim_rows.MAX_PARTS``): this thread makes the first, a forked
# child each other one. The same in both modes (``pipeline``), so both give the same tables.
PARTS = MAX_PARTS

ProgressCallback = Callable[[int], None]
_Item = CopyChunk | PiiRows | Sealed
_PartItem = _Item | PartDone
_PEOPLE = frozenset(PEOPLE_TABLES.values())


@dataclass(frozen=True)
class GenerationReport:
    """What one run wrote and how long each phase took (all durations in wall-clock seconds).

    ``rows``: rows written per table. ``phases``: seconds per phase of the load, in order. ``copy_seconds``: per
    table, time the loading thread spent in COPY (PostgreSQL parsing, primary keys, WAL);
    ``generator_wait_seconds``: time it waited for the generator's next chunk. ``generator_busy_seconds``: time
    the generating thread spent generating and handing chunks over (None without the pipeline), of which
    ``generator_blocked_seconds`` waiting for room to hand one over (the load behind). ``index_seconds``: per
    index of the model (a partitioned index: its partitions' builds summed), the build after the load (or, for
    a partition, as soon as its month was nearly complete). ``foreign_key_seconds``: per re-added key
    (``table.name``), its validation. ``analyze_seconds`` / ``vacuum_seconds``: per table, VACUUM (ANALYZE)
    after the commit (both hold the same time: it is one command). ``default_partition_rows``: rows in the claim
    tables' DEFAULT partitions after the load (0: every COPY targets a monthly partition). ``partition_claims``:
    claims per
    monthly partition. ``outcomes``: claims per final status.
    """

    seed: int
    as_of: dt.date
    first_service_date: dt.date
    last_service_date: dt.date
    rows: dict[str, int]
    phases: dict[str, float]
    total_seconds: float
    copy_seconds: dict[str, float]
    generator_wait_seconds: float
    generator_busy_seconds: float | None
    foreign_key_seconds: dict[str, float]
    analyze_seconds: dict[str, float]
    vacuum_seconds: dict[str, float]
    partitions_created: list[str]
    default_partition_rows: int
    partition_claims: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    index_seconds: dict[str, float] = field(default_factory=dict)
    generator_blocked_seconds: float = 0.0


def service_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last service date for ``as_of``: the 1st of the month ``WINDOW_MONTHS`` before as_of's
    month, and the day before as_of."""
    return as_of.replace(day=1) - relativedelta(months=WINDOW_MONTHS), as_of - dt.timedelta(days=1)


def _phase_of(table: str) -> str:
    if table == BATCH_TABLE:
        return "batches"
    if table == ACCUMULATOR_TABLE:
        return "accumulators"
    if table in (HISTORY_TABLE, ADJUSTMENT_TABLE, NUMBER_TABLE) or table.startswith(
        (f"{CLAIM_TABLE}_", f"{LINE_TABLE}_")
    ):
        return "claims"
    return "reference data"


def _parent_of(table: str) -> str:
    """The model table of a partition name (``claims_claim_p2025_01`` -> ``claims_claim``)."""
    for parent in (LINE_TABLE, CLAIM_TABLE):
        if table.startswith(f"{parent}_"):
            return parent
    return table


class _Indexes:
    """The filled tables' secondary indexes: dropped before the load, each partition's built as soon as its
    month is complete, the rest after the last COPY, then the partitioned indexes re-made over them.

    Building an index once over loaded rows costs a fraction of maintaining it row by row during COPY: at
    1,000,000 claims, 26 s for all of them against ~80 s of COPY time they added (mostly the GIN and the
    claim tables' 18 B-trees, each insert a random descent).
    """

    def __init__(self, tables: tuple[str, ...], *, using: str) -> None:
        self.tables, self.using = tables, using
        self.catalog = db.secondary_indexes(tables, using=using)
        self.found: list[db.Index] = []  # the ones dropped, to build again
        self.built: set[str] = set()
        self.seconds: dict[str, float] = {}

    def drop(self) -> None:
        """Drop every index that can be made again exactly as it is (``db.round_trips``; call it once the
        tables are empty). One that cannot (the work queue's ``status IN (...)`` predicate) stays, maintained
        row by row during COPY: it is partial, a few percent of the claims."""
        kept = {i.name for i in self.catalog if not i.parent and not db.round_trips(i, using=self.using)}
        self.found = [i for i in self.catalog if i.name not in kept and i.parent not in kept]
        db.drop_indexes(self.found, using=self.using)

    def _build(self, indexes: list[db.Index]) -> None:
        spent = db.create_indexes(indexes, using=self.using)
        for index in indexes:
            self.built.add(index.name)
            key = index.parent or index.name
            self.seconds[key] = self.seconds.get(key, 0.0) + spent[index.name]

    def build(self, tables: set[str]) -> None:
        """Build the dropped indexes of ``tables`` (plain tables or partitions) not built yet."""
        self._build([i for i in self.found if i.table in tables and i.name not in self.built])

    def finish(self) -> None:
        """Build what is left (plain tables, partitions of months not sealed, empty partitions), then the
        partitioned indexes with every partition's attached. Raises ``RuntimeError`` when the indexes found
        afterwards are not exactly those found before."""
        parents = {i.parent for i in self.found if i.parent}
        self._build([i for i in self.found if i.name not in self.built and i.name not in parents])
        db.attach_indexes([i for i in self.found if i.name in parents], self.found, using=self.using)
        after = db.secondary_indexes(self.tables, using=self.using)
        if set(after) != set(self.catalog):
            raise RuntimeError(f"indexes differ after the load: {sorted(set(self.catalog) ^ set(after))}")


class _Keys:
    """The filled tables' foreign keys (their partitions' own included): dropped before the load, a month's
    partition keys re-added as soon as the month is complete, the rest after the last COPY (each validating
    its rows in one pass instead of a check per row during COPY)."""

    def __init__(self, tables: tuple[str, ...], *, using: str) -> None:
        self.tables, self.using = tables, using
        self.found = db.foreign_keys(tables, using=using)
        self.added: set[db.ForeignKey] = set()
        self.seconds: dict[db.ForeignKey, float] = {}

    def drop(self) -> None:
        db.drop_foreign_keys(self.found, using=self.using)

    def _add(self, keys: list[db.ForeignKey]) -> None:
        self.seconds.update(db.add_foreign_keys(keys, using=self.using))
        self.added.update(keys)

    def add_within(self, tables: set[str]) -> None:
        """Re-add the keys from one of ``tables`` to another (tables whose rows are all loaded: the reference
        data, a month's line partition and its claim partition)."""
        self._add(
            [k for k in self.found if k.table in tables and k.referenced in tables and k not in self.added]
        )

    def finish(self) -> None:
        """Re-add the rest. Raises ``RuntimeError`` when the keys found afterwards are not those found before."""
        self._add([k for k in self.found if k not in self.added])
        restored = db.foreign_keys(self.tables, using=self.using)
        if restored != self.found:
            raise RuntimeError(f"foreign keys differ after the load: {self.found} != {restored}")


def _maintain_after_commit(tables: tuple[str, ...], *, using: str) -> dict[str, float]:
    """VACUUM (ANALYZE) every table, ``_MAINTENANCE_CONNECTIONS`` at a time, each on a connection of its own
    thread; returns the seconds per table. The largest tables come first in ``TABLES``' claim-table order."""
    order = sorted(tables, key=lambda t: (t != CLAIM_TABLE, t != LINE_TABLE, TABLES.index(t)))
    lock = threading.Lock()
    seconds: dict[str, float] = {}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                with lock:
                    if not order or errors:
                        return
                    table = order.pop(0)
                seconds.update(db.maintain([table], command="VACUUM (ANALYZE)", using=using))
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        finally:
            connections[using].close()  # this thread's own connection

    threads = [
        threading.Thread(target=work, name=f"demo-data-vacuum-{i}") for i in range(_MAINTENANCE_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return {table: seconds[table] for table in tables}


class _Handoff:
    """The bounded queue from the generating thread to the loading thread, with a way to stop either side.

    ``put`` raises ``_Stopped`` once the loader has failed (the generator has nothing left to do); the loader's
    iteration raises it when the generator failed or was interrupted, inside the load's transaction, which
    rolls back.
    """

    _END = object()

    def __init__(self, depth: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.wait_seconds = 0.0  # the loader's time waiting for the generator
        self.full_seconds = 0.0  # the generator's time waiting for room

    def put(self, item: object) -> None:
        started = time.perf_counter()
        try:
            while not self.stopped.is_set():
                try:
                    self._queue.put(item, timeout=_POLL)
                    return
                except queue.Full:
                    continue
            raise _Stopped
        finally:
            self.full_seconds += time.perf_counter() - started

    def end(self) -> None:
        self.put(self._END)

    def stop(self) -> None:
        self.stopped.set()

    def __iter__(self) -> Iterator[_Item]:
        while True:
            waited = time.perf_counter()
            try:
                item = self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self.stopped.is_set():
                    raise _Stopped from None
                continue
            finally:
                self.wait_seconds += time.perf_counter() - waited
            if item is self._END:
                return
            yield item  # type: ignore[misc]


class _Stopped(Exception):
    """The other side of the handoff gave up (its own error is the one reported)."""


class _Merge:
    """The parts' items as one stream for the load: chunks pass through in the order they come; a month is
    ``Sealed`` (nearly complete, then complete) once every part has said so of it (a part that has finished
    counts as complete for every month); after the last part's ``PartDone``, the batches' chunk with every
    part's totals. ``outcomes``: the claims per final status, all parts added up at the end.
    """

    def __init__(self, *, parts: int, seed: int, claims: int, as_of: dt.date, window_start: dt.date) -> None:
        self.parts, self.seed, self.claims, self.as_of, self.window_start = (
            parts,
            seed,
            claims,
            as_of,
            window_start,
        )
        self.outcomes: dict[str, int] = {}
        self._nearly: dict[dt.date, set[int]] = {}
        self._complete: dict[dt.date, set[int]] = {}
        self._sent: dict[dt.date, bool] = {}  # month -> complete sent (False: nearly complete sent)
        self._done: list[PartDone] = []

    def __call__(self, items: Iterable[_PartItem]) -> Iterator[_Item]:
        for item in items:
            if isinstance(item, Sealed):
                self._nearly.setdefault(item.month, set()).add(item.part)
                if item.complete:
                    self._complete.setdefault(item.month, set()).add(item.part)
                yield from self._due(item.month)
            elif isinstance(item, PartDone):
                self._done.append(item)
                for month in sorted(self._nearly):
                    yield from self._due(month)
                if len(self._done) == self.parts:
                    for done in self._done:
                        for status, count in done.outcomes.items():
                            self.outcomes[status] = self.outcomes.get(status, 0) + count
                    yield batches_chunk(
                        seed=self.seed, claims=self.claims, window_start=self.window_start, as_of=self.as_of,
                        totals=[done.batch_totals for done in sorted(self._done, key=lambda d: d.part)],
                    )  # fmt: skip
                    return
            else:
                yield item

    def _due(self, month: dt.date) -> Iterator[Sealed]:
        finished = {done.part for done in self._done}
        if self._sent.get(month):
            return
        if len(self._complete.get(month, set()) | finished) == self.parts:
            self._sent[month] = True
            yield Sealed(month, complete=True)
        elif month not in self._sent and len(self._nearly[month] | finished) == self.parts:
            self._sent[month] = False
            yield Sealed(month, complete=False)


class _Load:
    """The database side of a run, on one connection: partitions, then in one transaction the keys and
    indexes dropped, TRUNCATE, every COPY (indexes and keys of complete tables made again as they complete),
    the rest of the indexes and keys; after the commit VACUUM (ANALYZE) and the DEFAULT-partition check.

    ``run(items)`` takes the generator's items; ``encryption`` is the PII chunk being made in another process
    (None: ``PiiRows`` come among the items and are encrypted here). Times and counts are kept for the report.
    """

    def __init__(
        self,
        *,
        first_day: dt.date,
        last_day: dt.date,
        progress: ProgressCallback | None,
        encryption: Deferred[CopyChunk] | None,
        using: str,
    ) -> None:
        self.first_day, self.last_day, self.progress, self.using = first_day, last_day, progress, using
        self.encryption = encryption
        self.phases: dict[str, float] = {}
        self._mark = time.perf_counter()
        self.copy_seconds: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        self.partition_claims: dict[str, int] = {}
        self.created: list[str] = []
        self.maintain_seconds: dict[str, float] = {}
        self.in_default = 0
        self.keys: _Keys | None = None
        self.indexes: _Indexes | None = None
        self._partitions: set[str] = set()
        self._complete: set[str] = set()
        self._filled: set[str] = set()  # tables (partitions) a COPY wrote to

    def phase(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._mark
        self._mark = now

    def run(self, items: Iterable[_Item]) -> None:
        using = self.using
        months = [self.first_day + relativedelta(months=i) for i in range(WINDOW_MONTHS + 1)]
        self.created = partitions_ensure(
            group=Claim.partition_group, months=[m for m in months if m <= self.last_day], using=using
        )
        self._partitions = existing_partitions(CLAIM_TABLE, using=using) | existing_partitions(
            LINE_TABLE, using=using
        )
        self.phase("partitions")
        with transaction.atomic(using=using):
            # No file is loading while the tables are replaced (the lock ingest holds for each file).
            locks.xact_lock(INGEST_LOCK, timeout=INGEST_LOCK_TIMEOUT, using=using)
            with connections[using].cursor() as cursor:
                # Fail clearly rather than queue forever behind a session holding one of the tables.
                cursor.execute("SET LOCAL lock_timeout = '30s'")
                # The foreign-key validations are big anti-joins: let them hash in memory.
                cursor.execute("SET LOCAL work_mem = '256MB'")
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{_MAINTENANCE_WORK_MEM}'")
                # While the generator runs it has the other core: no parallel index builds then.
                cursor.execute("SET LOCAL max_parallel_maintenance_workers = 0")
            keys = self.keys = _Keys(TABLES, using=using)
            keys.drop()
            indexes = self.indexes = _Indexes(TABLES, using=using)
            db.truncate(TABLES, using=using)
            indexes.drop()
            self.phase("prepare")
            self._consume(items)
            db.reset_sequences(_SEQUENCED, using=using)
            self.phase("sequences")
            with connections[using].cursor() as cursor:
                cursor.execute(f"SET LOCAL max_parallel_maintenance_workers = {_TAIL_WORKERS}")
            indexes.finish()
            self.phase("indexes")
            # The plain tables complete only now (history, CAS, numbers, batches, accumulators; a month never
            # sealed): statistics for their keys' validation. Not the partitioned tables themselves: each
            # partition's own are what the validation's plan per partition reads (and ANALYZE of a partitioned
            # table samples every partition again).
            rest = {t for t in TABLES if t not in _PARTITIONED} | (self._partitions & self._filled)
            db.maintain(sorted(rest - self._complete), command="ANALYZE", using=using)
            self.phase("analyze")
            keys.finish()
            self.phase("foreign keys")
        self.phase("commit")
        # Statistics and the VACUUM record after the commit, two tables at a time on connections of their own
        # (one transaction has one backend; these can use both cores). COPY FREEZE has already set the
        # visibility map (PostgreSQL 14+), which index-only scans need: VACUUM finds every page all-visible and
        # frozen and only records the fact (pg_stat_user_tables.last_vacuum). It cannot run in a transaction.
        self.maintain_seconds = _maintain_after_commit(TABLES, using=using)
        self.phase("vacuum analyze")
        self.in_default = sum(
            db.row_count(part, using=using)
            for table in _PARTITIONED
            for part in db.default_partitions(table, using=using)
        )
        if self.in_default:
            raise RuntimeError(f"{self.in_default} rows landed in a DEFAULT partition")
        self.phase("verify")

    def _load(self, chunk: CopyChunk) -> None:
        parent = _parent_of(chunk.table)
        if parent != chunk.table and chunk.table not in self._partitions:
            raise RuntimeError(f"partition {chunk.table} does not exist")
        copied = time.perf_counter()
        db.copy_chunk(chunk, freeze=True, using=self.using)
        self.copy_seconds[parent] = self.copy_seconds.get(parent, 0.0) + time.perf_counter() - copied
        self.rows[parent] = self.rows.get(parent, 0) + chunk.rows
        self._filled.add(chunk.table)
        if parent == CLAIM_TABLE:
            self.partition_claims[chunk.table] = self.partition_claims.get(chunk.table, 0) + chunk.rows
        if self.progress is not None and chunk.claims:
            self.progress(chunk.claims)

    def _completed(self, tables: set[str]) -> None:
        """``tables`` hold all their rows: their indexes are built and the keys among complete tables re-added
        now, while the generator goes on (PostgreSQL would otherwise wait for it), not after the last COPY."""
        assert self.indexes is not None and self.keys is not None
        new = tables - self._complete
        self._complete.update(tables)
        self.indexes.build(tables)
        # Statistics before the keys validate (here and at the end), so each validation's anti-join is planned
        # on them; without them the planner takes the partitions' key columns for non-null and distinct enough
        # to hash the whole referenced table again for every partition.
        db.maintain(sorted(new), command="ANALYZE", using=self.using)
        self.keys.add_within(self._complete)

    def _consume(self, items: Iterable[_Item]) -> None:
        pii = PEOPLE_TABLES["pii"]
        current = "reference data"
        for item in items:
            if isinstance(item, PiiRows):  # not pipelined: encrypted here
                self.rows[pii] = len(item.rows)
                self._load(pii_chunk(item))
                continue
            if isinstance(item, Sealed):
                month = {partition_name(t, item.month) for t in _PARTITIONED}
                if item.complete:
                    self._completed(month)
                else:
                    assert self.indexes is not None
                    self.indexes.build(month)
                continue
            kind = _phase_of(item.table)
            if kind != current:
                self.phase(current)
                current = kind
                if kind == "claims":  # every reference table is loaded, the PII unless still encrypted
                    self._completed({t for t in _PEOPLE if self.encryption is None or t != pii})
            self._load(item)
            if self.encryption is not None and self.encryption.ready():
                self._load_pii()
        if self.encryption is not None:
            self._load_pii()
        self.phase(current)

    def _load_pii(self) -> None:
        assert self.encryption is not None
        chunk = self.encryption.result()
        self.encryption = None
        self._load(chunk)
        self._completed({PEOPLE_TABLES["pii"]})


def _part_items(part: ClaimRows) -> Iterator[_PartItem]:
    """A part's items (in a child: its ``chunks()``, whose last is its ``PartDone``)."""
    return part.chunks()


def demo_data_generate(
    *,
    claims: int,
    seed: int,
    as_of: dt.date,
    progress: ProgressCallback | None = None,
    pipeline: bool = True,
    using: str = ddl.OWNER_ALIAS,
) -> GenerationReport:
    """Replace all claims, members and providers data with ``claims`` synthetic claims for seed ``seed``.

    A development tool that drops and re-adds foreign keys and indexes, TRUNCATEs and bulk-loads: it runs on
    the owner's connection (``using``, default the owner alias), since the app role may do none of that.

    Service dates run from the 1st of the month 24 months before ``as_of``'s month to the day before
    ``as_of``; every timestamp is before ``as_of`` midnight UTC and derives from it, so the same
    (claims, seed, as_of) gives identical table contents. Members are ``claims // 5``, providers
    ``min(20000, max(20, claims // 50))``, plans 10.

    ``pipeline`` (the default) generates in this thread while another thread loads on a connection of its
    own, and encrypts the PII in a child process; ``pipeline=False`` does it all in this thread, one step after
    the other (to measure the overlap). ``progress(n)`` is called after each COPY of ``n`` claims (from the
    loading thread when pipelined).

    Raises ``ValueError`` for ``claims`` < 1; ``django.db.DatabaseError`` (after rolling everything back) when
    the load fails; ``RuntimeError`` when the foreign keys or indexes found before the load are not all back
    after it or a DEFAULT partition holds rows (``workers.ChildError`` when the encryption process fails).
    """
    if claims < 1:
        raise ValueError(f"claims must be at least 1, got {claims}")
    started = time.perf_counter()
    first_day, last_day = service_window(as_of)
    load = _Load(first_day=first_day, last_day=last_day, progress=progress, encryption=None, using=using)
    merge = _Merge(parts=PARTS, seed=seed, claims=claims, as_of=as_of, window_start=first_day)

    def parts(people: People, diagnoses: Diagnoses) -> list[ClaimRows]:
        return [
            ClaimRows(
                seed=seed,
                claims=claims,
                as_of=as_of,
                window_start=first_day,
                people=people,
                diagnoses=diagnoses,
                part=part,
                parts=PARTS,
            )  # fmt: skip
            for part in range(PARTS)
        ]

    if not pipeline:
        people, people_items = build_people(seed=seed, claims=claims, as_of=as_of, window_start=first_day)
        rows = parts(people, diagnosis_tables(seed))
        load.run(merge(chain(people_items, *(part.chunks() for part in rows))))
        busy_seconds: float | None = None
        wait_seconds = full_seconds = 0.0
    else:
        handoff = _Handoff(_HANDOFF_CHUNKS)
        failure: list[BaseException] = []

        def loading() -> None:
            try:
                load.run(merge(handoff))
            except _Stopped:
                pass
            except BaseException as exc:  # re-raised in the generating thread
                failure.append(exc)
            finally:
                handoff.stop()
                connections[using].close()  # this thread's own connection

        def receiving(stream: Streamed[_PartItem]) -> None:
            try:
                for item in stream:
                    handoff.put(item)
            except _Stopped:
                pass
            except BaseException as exc:  # re-raised in the generating thread
                if not handoff.stopped.is_set():  # else the child was stopped for another failure
                    failure.append(exc)
                    handoff.stop()

        # The diagnosis tables (reading ICD-10-CM, ~3 s) are made in a child while the reference data is made
        # here. Every child is forked before any thread starts (a fork copies only the forking thread; a lock
        # another thread held at that moment would stay locked in the child).
        diagnoses = Deferred(diagnosis_tables, seed, name="demo-data-icd10")
        loader = threading.Thread(target=loading, name="demo-data-load")
        encryption: Deferred[CopyChunk] | None = None
        streams: list[Streamed[_PartItem]] = []
        receivers: list[threading.Thread] = []
        handed_over = False
        try:
            people, people_items = build_people(seed=seed, claims=claims, as_of=as_of, window_start=first_day)
            items = list(people_items)
            (pii,) = (item for item in items if isinstance(item, PiiRows))
            # The child only encrypts and sends its chunk back.
            encryption = load.encryption = Deferred(pii_chunk, pii, name="demo-data-pii")
            rows = parts(people, diagnoses.result())
            # Every part but the first in a child of its own, streaming its items back.
            streams = [Streamed(_part_items, part, name=f"demo-data-claims-{part.part}") for part in rows[1:]]
            # The partitions, the keys and indexes dropped and the TRUNCATE go on in the loading thread while the
            # parts start.
            loader.start()
            busy = time.perf_counter()
            for reference in items:
                if not isinstance(reference, PiiRows):
                    handoff.put(reference)
            # The other parts' items only after the reference data (the loader completes the reference tables
            # when the first claims arrive).
            receivers = [
                threading.Thread(target=receiving, args=(stream,), name=f"demo-data-receive-{i}")
                for i, stream in enumerate(streams, start=1)
            ]
            for receiver in receivers:
                receiver.start()
            for chunk in rows[0].chunks():
                handoff.put(chunk)
            busy_seconds = time.perf_counter() - busy
            for receiver in receivers:
                receiver.join()
            handed_over = not handoff.stopped.is_set()
        except _Stopped:
            pass  # the loader or a part failed: its error is raised below
        finally:
            if not handed_over:
                handoff.stop()  # the generator failed or was interrupted: the load rolls back
            for stream in streams:
                stream.stop()
            for receiver in receivers:
                receiver.join()
            if loader.ident is not None:  # started
                loader.join()
            for stream in streams:
                stream.close()
            diagnoses.close()
            if encryption is not None:
                encryption.close()
        if failure:
            raise failure[0]
        wait_seconds = handoff.wait_seconds
        full_seconds = handoff.full_seconds
    assert load.keys is not None and load.indexes is not None
    return GenerationReport(
        seed=seed,
        as_of=as_of,
        first_service_date=first_day,
        last_service_date=last_day,
        rows=load.rows,
        phases=load.phases,
        total_seconds=time.perf_counter() - started,
        copy_seconds=load.copy_seconds,
        generator_wait_seconds=wait_seconds,
        generator_blocked_seconds=full_seconds,
        generator_busy_seconds=busy_seconds,
        foreign_key_seconds={f"{k.table}.{k.name}": sec for k, sec in load.keys.seconds.items()},
        analyze_seconds=load.maintain_seconds,
        vacuum_seconds=load.maintain_seconds,
        partitions_created=load.created,
        default_partition_rows=load.in_default,
        partition_claims=load.partition_claims,
        outcomes=dict(sorted(merge.outcomes.items())),
        index_seconds=load.indexes.seconds,
    )
