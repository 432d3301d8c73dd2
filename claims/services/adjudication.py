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

from claims.adjudication.engine import Benefits, ClaimDecision, ClaimFacts, LineFacts, decide
from claims.adjudication.pricing import ZERO
from claims.lifecycle import ClaimStatus, StatusSource
from claims.models import AdjudicationRun, Claim, ClaimAdjustment, ClaimLine
from claims.services.follow_ups import batch_follow_ups_send
from claims.services.lifecycle import (
    KEYS_FILTER,
    StatusChange,
    StatusConflict,
    claims_status_change,
    keys_params,
)
from members.models import Enrollment, HealthPlan, MemberAccumulator
from ops.platform.models import RunOutcome
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
ACCUMULATOR_TABLE = MemberAccumulator._meta.db_table


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
class _Waiting:
    id: int
    service_date_from: dt.date
    member_id: int
    plan_id: int
    billing_provider_id: int
    received_at: dt.datetime
    total_charge: Decimal
    code_problems: tuple[str, ...]


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
    claim_ids: Sequence[int] | None = None,
    dry_run: bool = False,
    trigger: str = "command",
    chunk: int = CHUNK,
    now: dt.datetime | None = None,
    reviewed: bool = False,
) -> AdjudicationResult:
    """Decide every "validated" claim (of batch ``batch_id``, or only ``claim_ids``), chunk by chunk.

    ``dry_run`` decides the first chunk and rolls it back (the counts say what would happen). ``reviewed``
    skips the review pends (an examiner approved the claims: ``claims.services.examiner.claims_approve``).
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
            decided = _adjudicate_chunk(
                batch_id=batch_id,
                claim_ids=claim_ids,
                chunk=chunk,
                now=now or timezone.now(),
                dry_run=dry_run,
                reviewed=reviewed,
            )
            for decision in decided:
                result.decided[decision.status] += 1
                result.edits.update(decision.edits)
            if dry_run or len(decided) < chunk:
                break
        run.outcome = RunOutcome.SUCCESS
        if batch_id is not None and result.claims and not dry_run:
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


class _DryRun(Exception):
    """Rolls a dry run's chunk back."""


def _adjudicate_chunk(
    *,
    batch_id: int | None,
    claim_ids: Sequence[int] | None,
    chunk: int,
    now: dt.datetime,
    dry_run: bool,
    reviewed: bool = False,
) -> list[ClaimDecision]:
    decisions: list[ClaimDecision] = []
    try:
        with transaction.atomic():
            waiting = _take_waiting(batch_id=batch_id, claim_ids=claim_ids, limit=chunk)
            if not waiting:
                return []
            decisions = _decide_and_write(waiting, now=now, reviewed=reviewed)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return decisions


def _take_waiting(
    *, batch_id: int | None, claim_ids: Sequence[int] | None, limit: int, status: str = ClaimStatus.VALIDATED
) -> list[_Waiting]:
    """Up to ``limit`` claims in ``status`` (validated), oldest received first, locked (others' locked claims
    skipped)."""
    where = ["status = %s"]
    params: list[Any] = [status]
    if batch_id is not None:
        where.append("batch_id = %s")
        params.append(batch_id)
    if claim_ids is not None:
        where.append("id = ANY(%s)")
        params.append(list(claim_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, service_date_from, member_id, health_plan_id, billing_provider_id, received_at, "
            f"total_charge, code_check_errors FROM {CLAIM_TABLE} WHERE {' AND '.join(where)} "
            f"ORDER BY received_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
            [*params, limit],
        )
        return [
            _Waiting(cid, sdf, member, plan, billing, received, charge, tuple(problems))
            for cid, sdf, member, plan, billing, received, charge, problems in cursor.fetchall()
        ]


def _lines_of(waiting: Sequence[_Waiting]) -> dict[int, list[LineFacts]]:
    lines: dict[int, list[LineFacts]] = defaultdict(list)
    with connection.cursor() as cursor:
        # Literal lists, not a join to unnest(): the planner prunes to the months of the chunk at plan time and
        # reads claimline_claim_idx there, where a 2,000-row unnest() led it to hash all 3M lines (1.2 s a chunk).
        cursor.execute(
            f"SELECT l.claim_id, l.line_number, l.procedure_code, l.modifiers, l.charge, l.units, l.service_date, "
            f"l.place_of_service FROM {LINE_TABLE} l WHERE {KEYS_FILTER.format(alias='l', id='claim_id')} "
            f"ORDER BY l.claim_id, l.line_number",
            keys_params((w.id, w.service_date_from) for w in waiting),
        )
        for claim_id, number, code, modifiers, charge, units, day, place in cursor.fetchall():
            lines[claim_id].append(LineFacts(number, code, tuple(modifiers), charge, units, day, place))
    return lines


def _coverage(member_ids: Iterable[int]) -> dict[int, list[tuple[int, dt.date, dt.date | None]]]:
    spans: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    rows = Enrollment.objects.filter(member_id__in=set(member_ids), is_active=True).values_list(
        "member_id", "plan_id", "effective_date", "termination_date"
    )
    for member_id, plan_id, start, end in rows:
        spans[member_id].append((plan_id, start, end))
    return spans


def _lock_accumulators(keys: set[tuple[int, int, int]]) -> dict[tuple[int, int, int], tuple[int, Decimal]]:
    """(member, plan, year) -> (accumulator id, deductible met), each row locked until the transaction ends."""
    if not keys:
        return {}
    members, plans, years = zip(*sorted(keys), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ACCUMULATOR_TABLE} (member_id, plan_id, plan_year, deductible_met) "
            f"SELECT m, p, y, 0 FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS k(m, p, y) "
            f"ON CONFLICT (member_id, plan_id, plan_year) DO NOTHING",
            [list(members), list(plans), list(years)],
        )
        cursor.execute(
            f"SELECT a.id, a.member_id, a.plan_id, a.plan_year, a.deductible_met FROM {ACCUMULATOR_TABLE} a "
            f"JOIN unnest(%s::bigint[], %s::bigint[], %s::int[]) AS k(m, p, y) "
            f"ON a.member_id = k.m AND a.plan_id = k.p AND a.plan_year = k.y ORDER BY a.id {_ACCUMULATOR_LOCK}",
            [list(members), list(plans), list(years)],
        )
        return {(m, p, y): (acc_id, met) for acc_id, m, p, y, met in cursor.fetchall()}


def _decide_and_write(
    waiting: list[_Waiting], *, now: dt.datetime, reviewed: bool = False, redecision: Redecision | None = None
) -> list[ClaimDecision]:
    lines = _lines_of(waiting)
    plans = {p.pk: benefits_of(p) for p in HealthPlan.objects.filter(pk__in={w.plan_id for w in waiting})}
    coverage = _coverage(w.member_id for w in waiting)
    in_network = set(
        ProviderNetwork.objects.filter(
            plan_id__in={w.plan_id for w in waiting}, provider_id__in={w.billing_provider_id for w in waiting}
        ).values_list("plan_id", "provider_id")
    )
    accumulators = _lock_accumulators({(w.member_id, w.plan_id, w.service_date_from.year) for w in waiting})
    met = {key: value for key, (_, value) in accumulators.items()}
    decided: list[tuple[_Waiting, ClaimDecision]] = []
    # Oldest service first: the deductible is spent in the order care was given.
    for w in sorted(waiting, key=lambda w: (w.service_date_from, w.id)):
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
    return [d for _, d in decided]


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
    with connection.cursor() as cursor:
        line_rows = [(w, line) for w, d in decided for line in d.lines]
        if line_rows:
            cursor.execute(
                f"""
                UPDATE {LINE_TABLE} AS l SET allowed = v.allowed, paid = v.paid, decision = v.decision
                FROM unnest(%s::bigint[], %s::date[], %s::int[], %s::numeric[], %s::numeric[], %s::text[])
                     AS v(claim_id, sdf, line_number, allowed, paid, decision)
                WHERE l.claim_id = v.claim_id AND l.service_date_from = v.sdf AND l.line_number = v.line_number
                  AND {KEYS_FILTER.format(alias="l", id="claim_id")}
                """,
                [
                    [w.id for w, _ in line_rows],
                    [w.service_date_from for w, _ in line_rows],
                    [line.line_number for _, line in line_rows],
                    [line.allowed for _, line in line_rows],
                    [line.paid for _, line in line_rows],
                    [line.status for _, line in line_rows],
                    *keys_params((w.id, w.service_date_from) for w, _ in decided),
                ],
            )
        changed = [
            (accumulators[key][0], value) for key, value in met.items() if value != accumulators[key][1]
        ]
        if changed:
            cursor.execute(
                f"UPDATE {ACCUMULATOR_TABLE} AS a SET deductible_met = v.met "
                f"FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, met) WHERE a.id = v.id",
                [[i for i, _ in changed], [m for _, m in changed]],
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


def claims_readjudicate(*, claim_ids: Sequence[int], actor: Any = None, note: str = "") -> AdjudicationResult:
    """Send pended claims back through the engine (after an eligibility fix, say): pended -> validated through
    the lifecycle writer (source "examiner", the actor), then adjudicate just those claims.

    Raises ``StatusConflict`` when one of them is no longer pended (nothing changes).
    """
    rows = list(
        Claim.objects.filter(id__in=claim_ids, status=ClaimStatus.PENDED).values_list(
            "id", "service_date_from"
        )
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
        missing = set(claim_ids) - {cid for cid, _ in rows}
        if missing:
            raise StatusConflict(sorted(missing))
    return claims_adjudicate(claim_ids=[cid for cid, _ in rows], trigger="examiner: re-adjudicate")


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
    *, claim_ids: Sequence[int], redecision: Redecision, now: dt.datetime | None = None
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
            batch_id=None, claim_ids=claim_ids, limit=len(claim_ids), status=redecision.from_status
        )
        missing = set(claim_ids) - {w.id for w in waiting}
        if missing:
            raise StatusConflict(sorted(missing))
        ClaimAdjustment.objects.filter(claim_id__in=[w.id for w in waiting]).delete()
        return _decide_and_write(waiting, now=now or timezone.now(), redecision=redecision)
