"""``demo_data_generate``: replace all claims, members and providers data with a synthetic plan.

One transaction holds the whole replacement: the ingest advisory lock, the foreign keys of the filled tables
dropped, TRUNCATE, every COPY, the foreign keys re-added under their own names (each validating all rows in one
pass) and a check that the set of keys is exactly as found. PostgreSQL's DDL and TRUNCATE are transactional,
so any failure — a COPY error, a key that does not validate, Ctrl-C — rolls everything back, keys included:
nobody ever sees a half-loaded database or a table without its keys. TRUNCATE in the same transaction also
lets every COPY write frozen, all-visible rows (COPY FREEZE). The cost is that the filled tables are locked
(ACCESS EXCLUSIVE) for the whole load; this is a demo / benchmark tool, not something to run beside traffic.

Python generation runs in a producer thread while the main thread COPYs the previous chunk: psycopg waits for
the server without the GIL, so generation and PostgreSQL's ingest overlap on the two cores.

Measured on the 2-core development machine (PostgreSQL 15, shared_buffers 128 MB), 1,000,000 claims with
2.9 M lines and 3.1 M history rows: 83 s in all — claims phase 53 s, reference data 10 s, ANALYZE 10 s, foreign
keys 7 s (5.5 s of it the line -> claim key), VACUUM 1.5 s. Without the producer thread it takes 105 s
(generation 38 s, COPY 50 s, one after the other). What limits it is PostgreSQL maintaining the model indexes
during COPY (18 on the three claim tables): at 300,000 claims the same COPY took 14.6 s with them and 5.0 s
with primary keys only. The indexes stay: building them after the load would mean dropping model indexes.

Those figures predate the adjudication engine deciding every claim (``claim_rows``): the generator thread then
outweighs COPY. At 200,000 claims (585,000 lines, 612,000 history rows, 881,000 CAS rows, 60,000 accumulators)
on the same machine, 46-53 s in all against 31-35 s when decisions were random draws: the generator thread is
busy 31-34 s (the engine and its facts about 13 s of that, the CAS rows' text 2 s), COPY 31 s (the CAS rows 5 s).
Python and PostgreSQL then each keep one of the two cores busy through most of the claims phase.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db import connections, transaction

from claims.models import Claim
from claims.services.ingest import INGEST_LOCK, INGEST_LOCK_TIMEOUT
from ops.platform import ddl, locks
from ops.platform.partitioning import existing_partitions, partitions_ensure
from ops.synthetic.history import db
from ops.synthetic.history.claim_rows import (
    ACCUMULATOR_TABLE,
    ADJUSTMENT_TABLE,
    BATCH_TABLE,
    CLAIM_TABLE,
    HISTORY_TABLE,
    LINE_TABLE,
    ClaimRows,
)
from ops.synthetic.history.copy_text import CopyChunk
from ops.synthetic.history.people import TABLES as PEOPLE_TABLES
from ops.synthetic.history.people import build_people

# Months of service dates before the current month (the window starts on the 1st of that month).
WINDOW_MONTHS = 24
# Every table this command fills, children before parents. TRUNCATE empties them all (CASCADE reaches any
# other table with a foreign key to them).
NUMBER_TABLE = "claims_claimnumber"
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
_QUEUE_CHUNKS = 3

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class GenerationReport:
    """What one run wrote and how long each phase took (all durations in wall-clock seconds).

    ``rows``: rows written per table. ``phases``: seconds per phase, in order. ``copy_seconds``: per table,
    time the main thread spent in COPY (PostgreSQL parsing, routing, index maintenance, WAL);
    ``generator_wait_seconds``: time it waited for Python to produce the next chunk; ``generator_busy_seconds``:
    time the generator thread spent generating (None without the pipeline). ``foreign_key_seconds``: per
    re-added key (``table.name``), its validation. ``analyze_seconds`` / ``vacuum_seconds``: per table.
    ``default_partition_rows``: rows in the claim tables' DEFAULT partitions after the load (0: every COPY
    targets a monthly partition). ``partition_claims``: claims per monthly partition. ``outcomes``: claims
    per final status.
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


def service_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last service date for ``as_of``: the 1st of the month ``WINDOW_MONTHS`` before as_of's
    month, and the day before as_of."""
    return as_of.replace(day=1) - relativedelta(months=WINDOW_MONTHS), as_of - dt.timedelta(days=1)


class _Producer:
    """Runs the generator in a thread and hands its chunks over through a small queue.

    The queue is bounded so memory stays at a few chunks; an exception in the thread is re-raised in the
    consumer; ``close()`` stops the thread when the consumer gives up first.
    """

    _DONE = object()

    def __init__(self, chunks: Iterator[CopyChunk]) -> None:
        self._chunks = chunks
        self._queue: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-data-generator", daemon=True)
        self.busy_seconds = 0.0

    def start(self) -> None:
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            started = time.perf_counter()
            for chunk in self._chunks:
                self.busy_seconds += time.perf_counter() - started
                if not self._put(chunk):
                    return
                started = time.perf_counter()
            self._put(self._DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(exc)

    def __iter__(self) -> Iterator[CopyChunk]:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, CopyChunk)
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _phase_of(table: str) -> str:
    if table == BATCH_TABLE:
        return "batches"
    if table == ACCUMULATOR_TABLE:
        return "accumulators"
    if table in (HISTORY_TABLE, ADJUSTMENT_TABLE) or table.startswith((f"{CLAIM_TABLE}_", f"{LINE_TABLE}_")):
        return "claims"
    return "reference data"


def _parent_of(table: str) -> str:
    """The model table of a partition name (``claims_claim_p2025_01`` -> ``claims_claim``)."""
    for parent in (LINE_TABLE, CLAIM_TABLE):
        if table.startswith(f"{parent}_"):
            return parent
    return table


class _Source:
    """The generator's chunk stream, keeping what the report needs once it has run."""

    def __init__(self, *, seed: int, claims: int, as_of: dt.date, window_start: dt.date) -> None:
        self.seed, self.claims, self.as_of, self.window_start = seed, claims, as_of, window_start
        self.rows: dict[str, int] = {}
        self.partition_claims: dict[str, int] = {}
        self.outcomes: dict[str, int] = {}

    def __iter__(self) -> Iterator[CopyChunk]:
        seed, claims, as_of, start = self.seed, self.claims, self.as_of, self.window_start
        people, people_chunks = build_people(seed=seed, claims=claims, as_of=as_of, window_start=start)
        yield from people_chunks
        claim_rows = ClaimRows(seed=seed, claims=claims, as_of=as_of, window_start=start, people=people)
        yield from claim_rows.chunks()
        self.rows = {**people.counts, **claim_rows.counts}
        self.partition_claims = dict(claim_rows.partition_rows)
        self.outcomes = dict(sorted(claim_rows.outcomes.items()))


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

    A development tool that drops and re-adds foreign keys, TRUNCATEs and bulk-loads: it runs on the owner's
    connection (``using``, default the owner alias), since the app role may do none of that.

    Service dates run from the 1st of the month 24 months before ``as_of``'s month to the day before
    ``as_of``; every timestamp is before ``as_of`` midnight UTC and derives from it, so the same
    (claims, seed, as_of) gives identical table contents. Members are ``claims // 5``, providers
    ``min(20000, max(20, claims // 50))``, plans 10.

    ``progress(n)`` is called from this thread after each COPY of ``n`` claims. ``pipeline=False`` generates
    and copies one after the other in this thread (to measure the overlap).

    Raises ``ValueError`` for ``claims`` < 1; ``django.db.DatabaseError`` (after rolling everything back) when
    the load fails; ``RuntimeError`` when the foreign keys found before the load are not all back after it or
    a DEFAULT partition holds rows.
    """
    if claims < 1:
        raise ValueError(f"claims must be at least 1, got {claims}")
    started = time.perf_counter()
    phases: dict[str, float] = {}
    mark = started

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - mark
        mark = now

    first_day, last_day = service_window(as_of)
    source = _Source(seed=seed, claims=claims, as_of=as_of, window_start=first_day)
    producer = _Producer(iter(source)) if pipeline else None
    if producer is not None:
        # Generation of the reference data starts now, beside the partition DDL.
        producer.start()
    copy_seconds: dict[str, float] = {}
    wait_seconds = 0.0
    try:
        months = [first_day + relativedelta(months=i) for i in range(WINDOW_MONTHS + 1)]
        created = partitions_ensure(
            group=Claim.partition_group, months=[m for m in months if m <= last_day], using=using
        )
        partitions = existing_partitions(CLAIM_TABLE, using=using)
        partitions |= existing_partitions(LINE_TABLE, using=using)
        phase("partitions")
        with transaction.atomic(using=using):
            # No file is loading while the tables are replaced (the lock ingest holds for each file).
            locks.xact_lock(INGEST_LOCK, timeout=INGEST_LOCK_TIMEOUT, using=using)
            with connections[using].cursor() as cursor:
                # Fail clearly rather than queue forever behind a session holding one of the tables.
                cursor.execute("SET LOCAL lock_timeout = '30s'")
                # The foreign-key validations are big anti-joins: let them hash in memory.
                cursor.execute("SET LOCAL work_mem = '256MB'")
            keys = db.foreign_keys(TABLES, using=using)
            db.drop_foreign_keys(keys, using=using)
            db.truncate(TABLES, using=using)
            phase("prepare")
            chunks: Iterator[CopyChunk] = iter(producer) if producer is not None else iter(source)
            current = "reference data"
            while True:
                waited = time.perf_counter()
                chunk = next(chunks, None)
                wait_seconds += time.perf_counter() - waited
                if chunk is None:
                    break
                parent = _parent_of(chunk.table)
                if parent != chunk.table and chunk.table not in partitions:
                    raise RuntimeError(f"partition {chunk.table} does not exist")
                kind = _phase_of(chunk.table)
                if kind != current:
                    phase(current)
                    current = kind
                copied = time.perf_counter()
                db.copy_chunk(chunk, freeze=True, using=using)
                copy_seconds[parent] = copy_seconds.get(parent, 0.0) + time.perf_counter() - copied
                if progress is not None and chunk.claims:
                    progress(chunk.claims)
            phase(current)
            # The claim-number lookup ingest matches duplicates through (claims.models.ClaimNumber): set-based.
            with connections[using].cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {NUMBER_TABLE} (claim_id, service_date_from, billing_provider_id, claim_number) "
                    f"SELECT id, service_date_from, billing_provider_id, claim_number FROM {CLAIM_TABLE}"
                )
            phase("claim numbers")
            db.reset_sequences(_SEQUENCED, using=using)
            phase("sequences")
            # Statistics first: with them the planner validates each line partition's key with a merge anti-join
            # over the claims' primary keys; without them it hashes all claims once per partition (2x slower).
            analyze_seconds = db.maintain(TABLES, command="ANALYZE", using=using)
            phase("analyze")
            key_seconds = db.add_foreign_keys(keys, using=using)
            restored = db.foreign_keys(TABLES, using=using)
            if restored != keys:
                raise RuntimeError(f"foreign keys differ after the load: {keys} != {restored}")
            phase("foreign keys")
        phase("commit")
    finally:
        if producer is not None:
            producer.close()
    # COPY FREEZE has already set the visibility map (PostgreSQL 14+), which index-only scans need; VACUUM
    # finds every page all-visible and only records the fact (pg_stat_user_tables.last_vacuum). It cannot run
    # in a transaction block, hence here, after the commit.
    vacuum_seconds = db.maintain(TABLES, command="VACUUM", using=using)
    phase("vacuum")
    in_default = sum(
        db.row_count(part, using=using)
        for table in (CLAIM_TABLE, LINE_TABLE)
        for part in db.default_partitions(table, using=using)
    )
    if in_default:
        raise RuntimeError(f"{in_default} rows landed in a DEFAULT partition")
    phase("verify")
    return GenerationReport(
        seed=seed,
        as_of=as_of,
        first_service_date=first_day,
        last_service_date=last_day,
        rows=source.rows,
        phases=phases,
        total_seconds=time.perf_counter() - started,
        copy_seconds=copy_seconds,
        generator_wait_seconds=wait_seconds,
        generator_busy_seconds=producer.busy_seconds if producer is not None else None,
        foreign_key_seconds={f"{k.table}.{k.name}": sec for k, sec in key_seconds.items()},
        analyze_seconds=analyze_seconds,
        vacuum_seconds=vacuum_seconds,
        partitions_created=created,
        default_partition_rows=in_default,
        partition_claims=source.partition_claims,
        outcomes=source.outcomes,
    )
