"""Adjudication of the claims waiting for a decision (status "validated"): facts in, decisions out, in chunks.

``claims_adjudicate`` is the one entry point (the ``adjudicate`` command, the Celery task queued after each
batch's validation, an examiner's re-adjudication). Per chunk of ``CHUNK`` claims, in one transaction:

1. take the claims with ``FOR UPDATE SKIP LOCKED`` (a claim another run holds is left to that run; the
   claim-lifecycle writer's compare-and-set then cannot fail on them);
2. read their lines, plans, the members' enrollments, the billing providers' network participation;
3. lock the members' deductible accumulators for the plan years involved (``SELECT ... FOR UPDATE``, in id order,
   so two runs deciding the same member's claims wait for each other instead of both spending the same
   deductible; rows are made first with ``INSERT ... ON CONFLICT DO NOTHING``);
4. decide each claim with the pure engine (``claims.adjudication.engine``), oldest service first;
5. write: status, CARC and paid through the lifecycle writer (history source "adjudication"); allowed, patient
   responsibility, pend reason, edits and processing time on the claim; allowed, paid and decision on each line;
   the CAS adjustments; the accumulators.

A chunk that fails rolls back whole: its claims stay "validated". The run is recorded in ``AdjudicationRun``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from claims.adjudication.edits import GroupCode
from claims.adjudication.engine import Benefits, ClaimDecision, ClaimFacts, LineFacts, decide
from claims.adjudication.pricing import ZERO
from claims.carc import Carc
from claims.ingest_rules import note_ended
from claims.lifecycle import FINAL_STATUSES, ClaimStatus, StatusSource
from claims.models import (
    AdjudicationRun,
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimRelation,
    ClaimStatusHistory,
    FrequencyCode,
)
from claims.services.follow_ups import batch_follow_ups_send
from claims.services.lifecycle import (
    KEYS_FILTER,
    StatusChange,
    StatusConflict,
    claims_status_change,
    keys_params,
    month_days,
    months_holding,
)
from members.models import Enrollment, HealthPlan, MemberAccumulator
from ops.platform.binding import bound_cursor, stage_rows
from ops.platform.models import RunOutcome
from ops.platform.workers import process_pool
from providers.models import ProviderNetwork

logger = logging.getLogger(__name__)

# Claims decided per transaction: large enough that the set-based reads and writes dominate (2,000 -> 5,000
# took 20,000 claims from 2,436 to 2,524 claims/s at 1M on file), small enough that the row locks (claims,
# accumulators) are held about two seconds at that rate.
CHUNK = 5_000
# The accumulator row lock (the concurrency test's negative control drops it and shows a deductible spent twice).
_ACCUMULATOR_LOCK = "FOR UPDATE OF a"
CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
ADJUSTMENT_TABLE = ClaimAdjustment._meta.db_table
HISTORY_TABLE = ClaimStatusHistory._meta.db_table
ACCUMULATOR_TABLE = MemberAccumulator._meta.db_table
ENROLLMENT_TABLE = Enrollment._meta.db_table
NETWORK_TABLE = ProviderNetwork._meta.db_table
_ENDING = frozenset({ClaimRelation.REPLACES, ClaimRelation.VOIDS})
_LINE_STAGE_COLUMNS = (
    "claim_id bigint, sdf date, line_number int, allowed numeric, paid numeric, decision text"
)


@dataclass
class AdjudicationResult:
    """What one run decided: counts by outcome and by edit, and the run record."""

    run: AdjudicationRun
    decided: Counter[str] = field(default_factory=Counter)
    edits: Counter[str] = field(default_factory=Counter)

    @property
    def claims(self) -> int:
        return sum(self.decided.values())


@dataclass(frozen=True)
class Shard:
    """One of ``of`` workers deciding side by side: it takes the claims of the members whose id is above
    ``member_after`` and at most ``member_through`` (None: unbounded on that side). A member's claims are all in
    one shard, so two workers never wait on each other's accumulator row locks (without shards, two runs
    serialized on shared members' locks).

    Why ranges and not ``member_id % of``: the planner estimates a range from the column's histogram, but a
    modulo at a flat 0.5 %, so it took a shard's 52,000 waiting claims for 549, sorted them all (on disk) for
    every chunk instead of reading the status index in order up to the chunk's size (measured at 1M claims on
    file, 100,000 waiting: 80 ms a chunk, growing with the backlog). ``shards_for`` cuts the ranges at the
    waiting claims' member-id quantiles, so the shards get about the same number of claims."""

    index: int
    of: int
    member_after: int | None = None
    member_through: int | None = None


def shards_for(workers: int, *, batch_id: int | None = None) -> list[Shard]:
    """``workers`` shards whose member-id ranges cover every id, cut where the claims waiting now (of
    ``batch_id``, when given) split into equal counts (``percentile_disc``). Claims that arrive later fall in
    one shard too. With fewer distinct members than workers, some shards are empty; with no claim waiting,
    one shard covers every id."""
    fractions = [index / workers for index in range(1, workers)]
    # Bounded to the months holding validated claims, as _take_waiting is; none: nothing waits.
    days = month_days(months_holding([ClaimStatus.VALIDATED]))
    if not days:
        return [Shard(0, 1)]
    where = "status = %s::text AND service_date_from = ANY(%s::date[])" + (
        " AND batch_id = %s::bigint" if batch_id is not None else ""
    )
    params: list[Any] = [
        fractions,
        ClaimStatus.VALIDATED,
        days,
        *([batch_id] if batch_id is not None else []),
    ]
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT percentile_disc(%b::float8[]) WITHIN GROUP (ORDER BY member_id) FROM {CLAIM_TABLE} "
            f"WHERE {where}",
            params,
        )
        row = cursor.fetchone()
    cuts: list[int | None] = list(row[0]) if row and row[0] else []
    if len(cuts) != workers - 1:  # nothing waiting: one shard takes whatever comes
        return [Shard(0, 1)]
    bounds = [None, *cuts, None]
    return [Shard(index, workers, bounds[index], bounds[index + 1]) for index in range(workers)]


@dataclass(frozen=True)
class _Waiting:
    id: int
    service_date_from: dt.date
    member_id: int
    plan_id: int
    billing_provider_id: int
    received_at: dt.datetime
    total_charge: Decimal
    code_problems: tuple[str, ...]
    frequency_code: str = FrequencyCode.ORIGINAL
    relation: str = ""
    related_id: int | None = None
    related_service_date_from: dt.date | None = None
    place_of_service: str = ""  # CLM05-1: a line's place when its SV1-05 is empty


def benefits_of(plan: HealthPlan) -> Benefits:
    """A plan's adjudication terms as the engine takes them."""
    return Benefits(
        plan_type=plan.plan_type,
        filing_limit_days=plan.filing_limit_days,
        conversion_factor=plan.conversion_factor,
        deductible=plan.deductible,
        coinsurance_rate=plan.coinsurance_rate,
        copay=plan.copay,
        review_threshold=plan.review_threshold,
        out_of_network_rate=plan.out_of_network_rate,
    )


def claims_adjudicate(
    *,
    batch_id: int | None = None,
    claim_keys: Sequence[tuple[int, dt.date]] | None = None,
    dry_run: bool = False,
    trigger: str = "command",
    chunk: int = CHUNK,
    now: dt.datetime | None = None,
    reviewed: bool = False,
    shard: Shard | None = None,
    follow_ups: bool = True,
) -> AdjudicationResult:
    """Decide every "validated" claim (of batch ``batch_id``, or only the claims of ``claim_keys``: (claim id,
    service_date_from) pairs, so the take reads those months' partitions only), chunk by chunk.

    ``dry_run`` decides the first chunk and rolls it back (the counts say what would happen). ``reviewed``
    skips the review pends (an examiner approved the claims: ``claims.services.examiner.claims_approve``).
    ``shard`` takes only that shard's members' claims (``claims_adjudicate_parallel``); ``follow_ups=False``
    leaves the batch's follow-up tasks to the caller.
    Returns the counts and the saved ``AdjudicationRun``. Raises whatever a chunk raised, after recording the
    run as failed (the chunks before it stay decided; the failed one stays "validated").
    """
    run = AdjudicationRun.objects.create(
        started_at=timezone.now(), batch_id=batch_id, trigger=trigger[:40], dry_run=dry_run
    )
    result = AdjudicationResult(run=run)
    start = time.perf_counter()
    try:
        while True:
            decided, taken = _adjudicate_chunk(
                batch_id=batch_id,
                claim_keys=claim_keys,
                chunk=chunk,
                now=now or timezone.now(),
                dry_run=dry_run,
                reviewed=reviewed,
                shard=shard,
            )
            for decision in decided:
                result.decided[decision.status] += 1
                result.edits.update(decision.edits)
            if dry_run or taken < chunk:
                break
        run.outcome = RunOutcome.SUCCESS
        if follow_ups and batch_id is not None and result.claims and not dry_run:
            # The batch's claims changed status: its analytics are stale (settings CLAIMS_BATCH_FOLLOW_UPS).
            batch_follow_ups_send(event="decided", batch_id=batch_id)
    except Exception as exc:
        logger.exception("adjudication run %s failed", run.pk)
        run.outcome = RunOutcome.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        raise
    finally:
        run.finished_at = timezone.now()
        run.duration_ms = round((time.perf_counter() - start) * 1000, 2)  # type: ignore[assignment]
        run.claims = result.claims
        run.approved = result.decided[ClaimStatus.APPROVED]
        run.denied = result.decided[ClaimStatus.DENIED]
        run.pended = result.decided[ClaimStatus.PENDED]
        run.edits = dict(result.edits)
        run.save()
    return result


@dataclass(frozen=True)
class ParallelResult:
    """What ``claims_adjudicate_parallel`` decided: counts summed over the shards, their run ids, wall time."""

    decided: Counter[str]
    edits: Counter[str]
    runs: list[int]
    seconds: float

    @property
    def claims(self) -> int:
        return sum(self.decided.values())


def claims_adjudicate_parallel(
    *, workers: int, batch_id: int | None = None, trigger: str = "command", now: dt.datetime | None = None
) -> ParallelResult:
    """``claims_adjudicate`` in ``workers`` processes side by side, one ``Shard`` each (member-id ranges
    from ``shards_for``), each with its own connection, chunks and ``AdjudicationRun``; the batch's follow-up tasks
    are sent once at the end. ``workers`` = 1, or a call inside an open transaction, runs in this process.

    Why processes: the engine is Python and the writes are PostgreSQL's, so one process leaves a core idle while
    it waits on the other (measured at 1M claims on file, 2 cores: 40,000 claims 2,650 claims/s in one process,
    5,600 claims/s in two). Raises ``AdjudicationFailed`` naming the shards that failed; the others' chunks stay
    decided, the failed chunks' claims stay "validated" (each shard's run records its error).
    """
    now = now or timezone.now()
    started = time.perf_counter()
    if workers <= 1 or connection.in_atomic_block:
        # Inside the caller's transaction other processes would not see its rows: decide here.
        outcomes = [_run_shard(None, batch_id, trigger, now)]
    else:
        shards = shards_for(workers, batch_id=batch_id)
        with process_pool(workers) as pool:
            futures = [pool.submit(_run_shard, shard, batch_id, trigger, now) for shard in shards]
            outcomes = [future.result() for future in futures]
    failed = [outcome.error for outcome in outcomes if outcome.error]
    result = ParallelResult(Counter(), Counter(), [o.run for o in outcomes], time.perf_counter() - started)
    for outcome in outcomes:
        result.decided.update(outcome.decided)
        result.edits.update(outcome.edits)
    if failed:
        raise AdjudicationFailed(failed)
    if batch_id is not None and result.claims:
        batch_follow_ups_send(event="decided", batch_id=batch_id)
    return result


class AdjudicationFailed(Exception):
    """Shards of a parallel run failed; their messages (exception class and text, no claim data) are listed."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class _ShardOutcome:
    run: int
    decided: dict[str, int]
    edits: dict[str, int]
    error: str = ""


def _run_shard(shard: Shard | None, batch_id: int | None, trigger: str, now: dt.datetime) -> _ShardOutcome:
    label = trigger if shard is None else f"{trigger} (shard {shard.index + 1} of {shard.of})"
    try:
        result = claims_adjudicate(batch_id=batch_id, trigger=label, now=now, shard=shard, follow_ups=False)
    except Exception as exc:  # claims_adjudicate recorded it in the shard's AdjudicationRun and the log
        return _ShardOutcome(0, {}, {}, f"{label}: {type(exc).__name__}")
    return _ShardOutcome(result.run.pk, dict(result.decided), dict(result.edits))


class _DryRun(Exception):
    """Rolls a dry run's chunk back."""


def _adjudicate_chunk(
    *,
    batch_id: int | None,
    claim_keys: Sequence[tuple[int, dt.date]] | None,
    chunk: int,
    now: dt.datetime,
    dry_run: bool,
    reviewed: bool = False,
    shard: Shard | None = None,
) -> tuple[list[ClaimDecision], int]:
    """One chunk in one transaction: (its decisions, how many claims it took)."""
    decisions: list[ClaimDecision] = []
    waiting: list[_Waiting] = []
    try:
        with transaction.atomic():
            waiting = _take_waiting(batch_id=batch_id, claim_keys=claim_keys, limit=chunk, shard=shard)
            if not waiting:
                return [], 0
            decisions = _decide_and_write(waiting, now=now, reviewed=reviewed)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return decisions, len(waiting)


def _take_waiting(
    *,
    batch_id: int | None,
    claim_keys: Sequence[tuple[int, dt.date]] | None,
    limit: int,
    status: str = ClaimStatus.VALIDATED,
    shard: Shard | None = None,
) -> list[_Waiting]:
    """Up to ``limit`` claims in ``status`` (validated), oldest received first, locked (others' locked claims
    skipped); only those of ``claim_keys`` ((id, service_date_from) pairs) when given.

    With keys, the ids and months go in as ``KEYS_FILTER``'s literal lists: the statement is planned over those
    months' partitions only (PostgreSQL docs, "Partition Pruning"); by id alone it was planned and locked over
    every month (bench/results/2026-12-01-partitions-120.md, rows 31 and 38).
    """
    where = ["status = %s::text"]
    params: list[Any] = [status]
    if batch_id is not None:
        where.append("batch_id = %s::bigint")
        params.append(batch_id)
    if claim_keys is not None:
        where.append(KEYS_FILTER.format(alias=CLAIM_TABLE, id="id"))
        params.extend(keys_params(claim_keys))
    else:
        # The months holding claims in the status (claims.services.lifecycle.months_holding), as a literal list of
        # their days: waiting claims are recent, so a few partitions are planned instead of every month's.
        days = month_days(months_holding([status]))
        if not days:
            # Nothing waits. (An empty list on the partition key does not prune: PostgreSQL would plan and lock
            # every partition before finding the condition false.)
            return []
        where.append("service_date_from = ANY(%b::date[])")
        params.append(days)
    if shard is not None and shard.member_after is not None:
        where.append("member_id > %s::bigint")
        params.append(shard.member_after)
    if shard is not None and shard.member_through is not None:
        where.append("member_id <= %s::bigint")
        params.append(shard.member_through)
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT id, service_date_from, member_id, health_plan_id, billing_provider_id, received_at, "
            f"total_charge, code_check_errors, frequency_code, relation, related_claim_id, related_service_date_from, "
            f"place_of_service FROM {CLAIM_TABLE} WHERE {' AND '.join(where)} "
            f"ORDER BY received_at, id LIMIT %s::integer FOR UPDATE SKIP LOCKED",
            [*params, limit],
            binary=True,  # results loaded in C: the text timestamptz loader is Python (0.3 s per 40,000 claims)
        )
        return [
            _Waiting(row[0], row[1], row[2], row[3], row[4], row[5], row[6], tuple(row[7]), *row[8:])
            for row in cursor.fetchall()
        ]


def _lines_of(waiting: Sequence[_Waiting]) -> dict[int, list[LineFacts]]:
    """The chunk's lines by claim id, in line order. A line without its own place of service (SV1-05 is
    situational, sent only when it differs) takes the claim's CLM05-1 (005010X222A1 2400 SV1-05 note)."""
    lines: dict[int, list[LineFacts]] = defaultdict(list)
    claim_place = {w.id: w.place_of_service for w in waiting}
    with bound_cursor() as cursor:
        # Literal lists, not a join to unnest(): the planner prunes to the months of the chunk at plan time and
        # reads claimline_claim_idx there, where a 2,000-row unnest() led it to hash all 3M lines (1.2 s a chunk).
        cursor.execute(
            f"SELECT l.claim_id, l.line_number, l.procedure_code, l.modifiers, l.charge, l.units, l.service_date, "
            f"l.place_of_service FROM {LINE_TABLE} l WHERE {KEYS_FILTER.format(alias='l', id='claim_id')} "
            f"ORDER BY l.claim_id, l.line_number",
            keys_params((w.id, w.service_date_from) for w in waiting),
            binary=True,
        )
        for claim_id, number, code, modifiers, charge, units, day, place in cursor.fetchall():
            place = place or claim_place[claim_id]
            lines[claim_id].append(LineFacts(number, code, tuple(modifiers), charge, units, day, place))
    return lines


def _coverage(member_ids: Iterable[int]) -> dict[int, list[tuple[int, dt.date, dt.date | None]]]:
    spans: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT member_id, plan_id, effective_date, termination_date FROM {ENROLLMENT_TABLE} "
            f"WHERE member_id = ANY(%b::bigint[]) AND is_active",
            [sorted(set(member_ids))],
        )
        for member_id, plan_id, start, end in cursor.fetchall():
            spans[member_id].append((plan_id, start, end))
    return spans


def _in_network(waiting: Sequence[_Waiting]) -> set[tuple[int, int]]:
    """The (plan, billing provider) pairs of the chunk that are in network."""
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT plan_id, provider_id FROM {NETWORK_TABLE} "
            f"WHERE plan_id = ANY(%b::bigint[]) AND provider_id = ANY(%b::bigint[])",
            [sorted({w.plan_id for w in waiting}), sorted({w.billing_provider_id for w in waiting})],
            binary=True,
        )
        return {(plan, provider) for plan, provider in cursor.fetchall()}


def _lock_accumulators(keys: set[tuple[int, int, int]]) -> dict[tuple[int, int, int], tuple[int, Decimal]]:
    """(member, plan, year) -> (accumulator id, deductible met), each row locked until the transaction ends.

    The rows on file are locked first (in id order), then the missing ones are inserted (in key order) and
    locked: a plan year's rows exist after its first claims, so the insert is usually skipped (it probed the
    unique index once per key: 0.45 s per 40,000 claims). Two runs sharing members wait for each other rather
    than deadlock: each takes existing rows in id order and inserts new ones in key order.
    """
    if not keys:
        return {}
    ordered = sorted(keys)
    locked = _select_accumulators(ordered)
    missing = [key for key in ordered if key not in locked]
    if missing:
        with bound_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ACCUMULATOR_TABLE} (member_id, plan_id, plan_year, deductible_met) "
                f"SELECT m, p, y, 0 FROM unnest(%b::bigint[], %b::bigint[], %b::int[]) AS k(m, p, y) "
                f"ON CONFLICT (member_id, plan_id, plan_year) DO NOTHING",
                [list(column) for column in zip(*missing, strict=True)],
            )
        locked.update(_select_accumulators(missing))
    return locked


def _select_accumulators(
    keys: Sequence[tuple[int, int, int]],
) -> dict[tuple[int, int, int], tuple[int, Decimal]]:
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.member_id, a.plan_id, a.plan_year, a.deductible_met FROM {ACCUMULATOR_TABLE} a "
            f"JOIN unnest(%b::bigint[], %b::bigint[], %b::int[]) AS k(m, p, y) "
            f"ON a.member_id = k.m AND a.plan_id = k.p AND a.plan_year = k.y ORDER BY a.id {_ACCUMULATOR_LOCK}",
            [list(column) for column in zip(*keys, strict=True)],
            binary=True,
        )
        return {(m, p, y): (acc_id, met) for acc_id, m, p, y, met in cursor.fetchall()}


@dataclass(frozen=True)
class _Original:
    """A claim that a replacement or void of the chunk names, as locked: its status decides whether it can be
    ended; member and plan say whose accumulator gets back the deductible it spent."""

    id: int
    service_date_from: dt.date
    status: str
    member_id: int
    plan_id: int


def _originals(waiting: Sequence[_Waiting]) -> dict[int, _Original]:
    """The originals the chunk's replacements and voids name, by id: those in the chunk as taken (validated),
    the others read and locked ``FOR UPDATE`` (an examiner or another run holding one is waited for)."""
    in_chunk = {w.id: w for w in waiting}
    named = {
        (w.related_id, w.related_service_date_from)
        for w in waiting
        if w.relation in _ENDING and w.related_id is not None and w.related_service_date_from is not None
    }
    found = {
        cid: _Original(cid, sdf, ClaimStatus.VALIDATED, in_chunk[cid].member_id, in_chunk[cid].plan_id)
        for cid, sdf in named
        if cid in in_chunk
    }
    outside = [(cid, sdf) for cid, sdf in named if cid not in in_chunk]
    if outside:
        with bound_cursor() as cursor:
            cursor.execute(
                f"SELECT c.id, c.service_date_from, c.status, c.member_id, c.health_plan_id FROM {CLAIM_TABLE} c "
                f"WHERE {KEYS_FILTER.format(alias='c', id='id')} ORDER BY c.id FOR UPDATE",
                keys_params(outside),
                binary=True,
            )
            for row in cursor.fetchall():
                found[row[0]] = _Original(*row)
    return found


def _ended_by_self(waiting: Sequence[_Waiting], originals: dict[int, _Original]) -> set[int]:
    """Ids of the chunk's claims whose named original is replaced or voided by that very claim: its history
    holds the move to replaced / voided with the note the ending wrote (``note_ended``)."""
    pairs = [
        (o.id, note_ended(replaced=w.relation == ClaimRelation.REPLACES, by_claim_id=w.id), w.id)
        for w in waiting
        if w.related_id is not None
        and w.relation in _ENDING
        and (o := originals.get(w.related_id)) is not None
        and o.status in FINAL_STATUSES
    ]
    if not pairs:
        return set()
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT k.by FROM {HISTORY_TABLE} h JOIN unnest(%b::bigint[], %b::text[], %b::bigint[]) "
            f"AS k(id, note, by) ON h.claim_id = k.id AND h.note = k.note "
            f"WHERE h.to_status IN (%s::text, %s::text)",
            [
                *(list(column) for column in zip(*pairs, strict=True)),
                ClaimStatus.REPLACED,
                ClaimStatus.VOIDED,
            ],
            binary=True,
        )
        return {row[0] for row in cursor.fetchall()}


def _deductible_spent(claim_ids: Sequence[int]) -> dict[int, Decimal]:
    """The deductible (CAS PR-1) each claim's decision spent, dollars, for claims that spent any."""
    if not claim_ids:
        return {}
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT claim_id, SUM(amount) FROM {ADJUSTMENT_TABLE} WHERE claim_id = ANY(%b::bigint[]) "
            f"AND group_code = %s::text AND carc = %s::text GROUP BY claim_id",
            [list(claim_ids), GroupCode.PATIENT.value, Carc.DEDUCTIBLE.value],
            binary=True,
        )
        return dict(cursor.fetchall())


def _decide_and_write(
    waiting: list[_Waiting], *, now: dt.datetime, reviewed: bool = False, redecision: Redecision | None = None
) -> list[ClaimDecision]:
    """Decide the chunk and write it; returns the decisions (originals ended without a decision of their own,
    because a replacement or void in the same chunk names them, are not among them)."""
    lines = _lines_of(waiting)
    plans = {p.pk: benefits_of(p) for p in HealthPlan.objects.filter(pk__in={w.plan_id for w in waiting})}
    coverage = _coverage(w.member_id for w in waiting)
    in_network = _in_network(waiting)
    originals = _originals(waiting)
    open_originals = {cid: o for cid, o in originals.items() if o.status not in FINAL_STATUSES}
    # A claim decided before (pended for review, then approved; a denial turned over) already ended its
    # original on its first decision: that original is its own, not a reason to pend it as "original not open".
    ended_by_self = _ended_by_self(waiting, originals)
    in_chunk = {w.id for w in waiting}
    # An original in the chunk itself is ended, not decided: its replacement or void is the claim of record.
    ended_here = {cid for cid in open_originals if cid in in_chunk}
    # Ended originals that were approved give their deductible back before the chunk spends any: the
    # replacement's cost share is computed afresh, and the member must not pay the same deductible twice.
    given_back = _deductible_spent(
        [cid for cid, o in open_originals.items() if o.status == ClaimStatus.APPROVED and cid not in in_chunk]
    )
    keys = {(w.member_id, w.plan_id, w.service_date_from.year) for w in waiting}
    keys |= {(o.member_id, o.plan_id, o.service_date_from.year) for o in open_originals.values()}
    accumulators = _lock_accumulators(keys)
    met = {key: value for key, (_, value) in accumulators.items()}
    for cid, spent in given_back.items():
        o = open_originals[cid]
        key = (o.member_id, o.plan_id, o.service_date_from.year)
        met[key] = max(met[key] - spent, ZERO)
    decided: list[tuple[_Waiting, ClaimDecision]] = []
    # Oldest service first: the deductible is spent in the order care was given.
    for w in sorted(waiting, key=lambda w: (w.service_date_from, w.id)):
        if w.id in ended_here:
            continue
        benefits = plans[w.plan_id]
        key = (w.member_id, w.plan_id, w.service_date_from.year)
        facts = ClaimFacts(
            claim_id=w.id,
            received_on=w.received_at.date(),
            service_date_from=w.service_date_from,
            total_charge=w.total_charge,
            code_problems=w.code_problems,
            coverage=tuple((s, e) for plan_id, s, e in coverage.get(w.member_id, ()) if plan_id == w.plan_id),
            enrolled_anywhere=bool(coverage.get(w.member_id)),
            in_network=(w.plan_id, w.billing_provider_id) in in_network,
            lines=tuple(lines.get(w.id, ())),
            frequency_code=w.frequency_code,
            relation=w.relation,
            original_open=w.related_id in open_originals or w.id in ended_by_self,
        )
        decision = decide(
            facts,
            benefits,
            deductible_left=max(benefits.deductible - met[key], ZERO),
            reviewed=reviewed or redecision is not None,
        )
        met[key] += decision.deductible_applied
        decided.append((w, decision))
    if redecision is not None:
        for w, d in decided:
            if d.status != redecision.to_status:
                raise RedecisionRefused(w.id, d)
    _write(decided, accumulators, met, now=now, redecision=redecision)
    _end_originals(waiting, open_originals, now=now)
    return [d for _, d in decided]


def _end_originals(waiting: Sequence[_Waiting], originals: dict[int, _Original], *, now: dt.datetime) -> None:
    """Replaced / voided: each open original that a replacement or void of the chunk names (lifecycle writer,
    compare-and-set on the status it was locked in; source "adjudication")."""
    changes = [
        StatusChange(
            o.id,
            o.service_date_from,
            o.status,
            ClaimStatus.REPLACED if w.relation == ClaimRelation.REPLACES else ClaimStatus.VOIDED,
            note_ended(replaced=w.relation == ClaimRelation.REPLACES, by_claim_id=w.id),
        )
        for w in waiting
        if w.related_id is not None
        and (o := originals.get(w.related_id)) is not None
        and w.relation in _ENDING
    ]
    claims_status_change(changes=changes, source=StatusSource.ADJUDICATION, at=now)


def _write(
    decided: list[tuple[_Waiting, ClaimDecision]],
    accumulators: dict[tuple[int, int, int], tuple[int, Decimal]],
    met: dict[tuple[int, int, int], Decimal],
    *,
    now: dt.datetime,
    redecision: Redecision | None = None,
) -> None:
    claims_status_change(
        changes=[
            StatusChange(
                w.id,
                w.service_date_from,
                redecision.from_status if redecision else ClaimStatus.VALIDATED,
                d.status,
                note=(
                    redecision.note
                    if redecision
                    else (
                        (f"CARC {d.carc}" if d.carc else d.pend_reason)
                        if d.status != ClaimStatus.APPROVED
                        else ""
                    )
                ),
                # A re-decided claim loses the CARC of the denial it had ("" clears it; None keeps it).
                denial_reason_code=d.carc or ("" if redecision else None),
                total_paid=d.paid,
                pend_reason=d.pend_reason or None,
                allowed=d.allowed,
                patient_responsibility=d.patient_responsibility,
                edits=tuple(d.edits),
                processing_ms=int((now - w.received_at).total_seconds() * 1000),
            )
            for w, d in decided
        ],
        source=redecision.source if redecision else StatusSource.ADJUDICATION,
        actor=redecision.actor if redecision else None,
        at=now,
    )
    with bound_cursor() as cursor:
        line_rows = [
            (w.id, w.service_date_from, line.line_number, line.allowed, line.paid, line.status)
            for w, d in decided
            for line in d.lines
        ]
        if line_rows:
            stage = stage_rows(cursor, "adjudication_line_stage", _LINE_STAGE_COLUMNS, line_rows)
            cursor.execute(
                f"""
                UPDATE {LINE_TABLE} AS l SET allowed = v.allowed, paid = v.paid, decision = v.decision
                FROM {stage} AS v
                WHERE l.claim_id = v.claim_id AND l.service_date_from = v.sdf AND l.line_number = v.line_number
                  AND {KEYS_FILTER.format(alias="l", id="claim_id")}
                """,
                keys_params((w.id, w.service_date_from) for w, _ in decided),
            )
        changed = [
            (accumulators[key][0], value) for key, value in met.items() if value != accumulators[key][1]
        ]
        if changed:
            stage = stage_rows(cursor, "adjudication_accumulator_stage", "id bigint, met numeric", changed)
            cursor.execute(
                f"UPDATE {ACCUMULATOR_TABLE} AS a SET deductible_met = v.met FROM {stage} AS v WHERE a.id = v.id"
            )
    adjustments_copy(
        [adjustment for w, d in decided for adjustment in adjustment_rows(w.id, w.service_date_from, d)]
    )


ADJUSTMENT_COLUMNS = (
    "claim_id",
    "claim_service_date_from",
    "line_number",
    "group_code",
    "carc",
    "rarc",
    "amount",
)
AdjustmentRow = tuple[int, dt.date, int, str, str, str, Decimal]


def adjustments_copy(rows: Sequence[AdjustmentRow]) -> None:
    """Write ``ClaimAdjustment`` rows (``ADJUSTMENT_COLUMNS`` order) with COPY: the ORM's bulk INSERT spent most
    of its time making model instances and converting the statement (measured: 0.9 s for 10,000 claims)."""
    if not rows:
        return
    raw = connection.connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {ADJUSTMENT_TABLE} ({', '.join(ADJUSTMENT_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def adjustment_rows(
    claim_id: int, service_date_from: dt.date, decision: ClaimDecision
) -> list[AdjustmentRow]:
    """The CAS rows of a decision for ``adjustments_copy``: claim level as line 0, then each line's."""
    rows = [(claim_id, service_date_from, 0, a.group, a.carc, a.rarc, a.amount) for a in decision.adjustments]
    rows += [
        (claim_id, service_date_from, line.line_number, a.group, a.carc, a.rarc, a.amount)
        for line in decision.lines
        for a in line.adjustments
    ]
    return rows


def claims_readjudicate(
    *, claim_keys: Sequence[tuple[int, dt.date]], actor: Any = None, note: str = ""
) -> AdjudicationResult:
    """Send pended claims back through the engine (after an eligibility fix, say): pended -> validated through
    the lifecycle writer (source "examiner", the actor), then adjudicate just those claims. ``claim_keys`` are
    (claim id, service_date_from) pairs: every read is pruned to those months' partitions.

    Raises ``StatusConflict`` when one of them is no longer pended (nothing changes).
    """
    keys = dict(claim_keys)
    rows = list(
        Claim.objects.filter(
            id__in=list(keys), service_date_from__in=sorted(set(keys.values())), status=ClaimStatus.PENDED
        ).values_list("id", "service_date_from")
    )
    with transaction.atomic():
        claims_status_change(
            changes=[
                StatusChange(cid, sdf, ClaimStatus.PENDED, ClaimStatus.VALIDATED, note or "re-adjudicate")
                for cid, sdf in rows
            ],
            source=StatusSource.EXAMINER,
            actor=actor,
        )
        # The claims that were not pended any more: a compare-and-set conflict, said as one.
        missing = set(keys) - {cid for cid, _ in rows}
        if missing:
            raise StatusConflict(sorted(missing))
    return claims_adjudicate(claim_keys=rows, trigger="examiner: re-adjudicate")


@dataclass(frozen=True)
class Redecision:
    """Who decides a claim again, from which status to which: the status the person saw (the compare-and-set),
    the status the engine must reach (anything else is refused), the history source ("supervisor"), the user,
    and the note (their reason)."""

    from_status: str
    to_status: str
    source: str
    actor: Any
    note: str


class RedecisionRefused(ValueError):
    """The engine decides a claim otherwise than its redecision requires; nothing was written."""

    def __init__(self, claim_id: int, decision: ClaimDecision) -> None:
        why = f"CARC {decision.carc}" if decision.carc else decision.pend_reason
        super().__init__(f"the engine does not decide claim {claim_id} so: {decision.status} ({why})")
        self.claim_id = claim_id
        self.decision = decision


def claims_redecide(
    *, claim_keys: Sequence[tuple[int, dt.date]], redecision: Redecision, now: dt.datetime | None = None
) -> list[ClaimDecision]:
    """Decide again, with the review pends skipped, claims that were already decided (a supervisor turning a
    denial over: ``claims.services.examiner.claims_override``), in the caller's transaction.

    The claims are taken ``FOR UPDATE`` in ``redecision.from_status``; their old adjustments are replaced by the
    new decision's, the deductible it spends is charged to the accumulators, and the move is written by the
    lifecycle writer with the redecision's source, actor and note. Returns the decisions.
    Raises ``RedecisionRefused`` (nothing written) when the engine decides a claim otherwise than
    ``redecision.to_status``, and ``StatusConflict`` when a claim is no longer in ``from_status`` or another
    transaction holds it.
    """
    with transaction.atomic():
        waiting = _take_waiting(
            batch_id=None, claim_keys=claim_keys, limit=len(claim_keys), status=redecision.from_status
        )
        missing = {cid for cid, _ in claim_keys} - {w.id for w in waiting}
        if missing:
            raise StatusConflict(sorted(missing))
        ClaimAdjustment.objects.filter(claim_id__in=[w.id for w in waiting]).delete()
        return _decide_and_write(waiting, now=now or timezone.now(), redecision=redecision)
