"""The synthetic history's decisions are the adjudication engine's: every claim is read back from the database
on its own (claim, lines, enrollments, network, plan, history, CAS rows, accumulators) and decided again with
``claims.adjudication.engine.decide``, and what the generator stored must be exactly what the engine gives.

The generator commits (``ops.tests.test_synthetic_history`` explains the module fixture); the checks run in the
usual rolled-back transactions, so the negative controls may tamper with stored rows.

The deductible a claim had left is the plan's deductible less what the member's earlier decisions in the same
plan and service year spent (their PR-1 adjustments as stored), plus what an approved original gave back when
the engine first decided the replacement or void that ended it (the service's give-back). "Earlier" is the order
of the decisions: the time of the history row that made each one, then the claim id. (Not ``processed_at``:
ending a claim moves its ``processed_at`` to that moment, as the lifecycle writer does.) The same check passed
on a 200,000-claim history (seed 1), where it found the one case these 3,000 claims do not hold: a pended
replacement denied later by an examiner, whose original gave its deductible back at the pend.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection

from claims.adjudication.edits import UNLISTED_CODES, Action, Edit
from claims.adjudication.engine import ClaimDecision, ClaimFacts, LineFacts, decide, denied_in_full
from claims.adjudication.pricing import ZERO
from claims.carc import Carc
from claims.ingest_rules import note_ended
from claims.lifecycle import ClaimStatus, StatusSource
from claims.models import (
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimRelation,
    ClaimStatusHistory,
    FrequencyCode,
)
from claims.services.adjudication import benefits_of
from members.models import Enrollment, HealthPlan, MemberAccumulator
from ops.platform.partitioning import partitions_ensure
from ops.synthetic.history.generate import GenerationReport, demo_data_generate, service_window
from ops.synthetic.reference import UNLISTED_SERVICES
from ops.tests.test_synthetic_history import AS_OF, drop_window_partitions
from providers.models import ProviderNetwork

CLAIMS = 3000
SEED = 5
DECIDED = (ClaimStatus.APPROVED, ClaimStatus.DENIED, ClaimStatus.PENDED)
ENDED = (ClaimStatus.REPLACED, ClaimStatus.VOIDED)
ENDING = (ClaimRelation.REPLACES, ClaimRelation.VOIDS)


@pytest.fixture(scope="module")
def generated(django_db_setup: None, django_db_blocker: Any) -> Iterator[GenerationReport]:
    with django_db_blocker.unblock():
        drop_window_partitions()  # left behind by an interrupted run on a reused test database
        first, _ = service_window(AS_OF)
        partitions_ensure(group="claims", months=[first + relativedelta(months=k) for k in range(25)])
        try:
            yield demo_data_generate(claims=CLAIMS, seed=SEED, as_of=AS_OF)
        finally:
            drop_window_partitions()


@pytest.fixture
def report(generated: GenerationReport, db: None) -> GenerationReport:
    return generated


# -- the database, read back --------------------------------------------------------------------------------


@dataclass
class StoredLine:
    number: int
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: dt.date
    place: str
    allowed: Decimal
    paid: Decimal
    decision: str


@dataclass
class Stored:
    """One claim as stored, with its lines, CAS rows (id order) and status history (id order)."""

    id: int
    sdf: dt.date
    member: int
    plan: int
    billing: int
    received_at: dt.datetime
    total_charge: Decimal
    problems: tuple[str, ...]
    status: str
    carc: str
    pend_reason: str
    paid: Decimal
    allowed: Decimal
    responsibility: Decimal
    edits: tuple[str, ...]
    ms: int | None
    relation: str
    frequency: str
    related_id: int | None
    place: str  # CLM05-1
    lines: list[StoredLine] = field(default_factory=list)
    cas: list[tuple[int, str, str, str, Decimal]] = field(default_factory=list)
    history: list[tuple[str, str, dt.datetime, str, str]] = field(default_factory=list)

    def decisive(self) -> int | None:
        """Index of the history row of the claim's decision: the last move to approved, denied or pended, or a
        void's own move to voided (not the move of an original that a later claim ended)."""
        found = None
        for i, (old, to, _, source, _) in enumerate(self.history):
            if to in DECIDED or (
                to == ClaimStatus.VOIDED
                and old == ClaimStatus.VALIDATED
                and source == StatusSource.ADJUDICATION
                and self.frequency == FrequencyCode.VOID
            ):
                found = i
        return found

    def ended_at(self) -> dt.datetime | None:
        """When a later claim replaced or voided this one (its history's move to replaced / voided from a
        decision), or None."""
        for old, to, at, _, _ in self.history:
            if to in ENDED and old in DECIDED:
                return at
        return None


@dataclass
class World:
    claims: dict[int, Stored]
    plans: dict[int, HealthPlan]
    enrollments: dict[int, list[tuple[int, dt.date, dt.date | None]]]
    network: set[tuple[int, int]]
    accumulators: dict[tuple[int, int, int], Decimal]


def read_world() -> World:
    """Everything the checks need, straight from the tables (nothing from the generator)."""
    claims: dict[int, Stored] = {}
    for row in Claim.objects.order_by("id").values_list(
        "id", "service_date_from", "member_id", "health_plan_id", "billing_provider_id", "received_at",
        "total_charge", "code_check_errors", "status", "denial_reason_code", "pend_reason", "total_paid",
        "allowed", "patient_responsibility", "edits", "processing_ms", "relation", "frequency_code",
        "related_claim_id", "place_of_service",
    ):  # fmt: skip
        values = list(row)
        values[7] = tuple(values[7])
        values[14] = tuple(values[14])
        claims[row[0]] = Stored(*values)
    for line in ClaimLine.objects.order_by("claim_id", "line_number").values_list(
        "claim_id", "line_number", "procedure_code", "modifiers", "charge", "units", "service_date",
        "place_of_service", "allowed", "paid", "decision",
    ):  # fmt: skip
        claim_id, number, code, modifiers, *rest = line
        claims[claim_id].lines.append(StoredLine(number, code, tuple(modifiers), *rest))
    for claim_id, *cas in ClaimAdjustment.objects.order_by("id").values_list(
        "claim_id", "line_number", "group_code", "carc", "rarc", "amount"
    ):
        claims[claim_id].cas.append(tuple(cas))
    for claim_id, *step in ClaimStatusHistory.objects.order_by("id").values_list(
        "claim_id", "from_status", "to_status", "changed_at", "source", "note"
    ):
        claims[claim_id].history.append(tuple(step))
    enrollments: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for member, plan, start, end in Enrollment.objects.filter(is_active=True).values_list(
        "member_id", "plan_id", "effective_date", "termination_date"
    ):
        enrollments[member].append((plan, start, end))
    return World(
        claims=claims,
        plans={plan.pk: plan for plan in HealthPlan.objects.all()},
        enrollments=enrollments,
        network=set(ProviderNetwork.objects.values_list("plan_id", "provider_id")),
        accumulators={
            (m, p, y): met
            for m, p, y, met in MemberAccumulator.objects.values_list(
                "member_id", "plan_id", "plan_year", "deductible_met"
            )
        },
    )


def facts_of(world: World, claim: Stored, at: dt.datetime | None = None) -> ClaimFacts:
    """The engine's facts of a stored claim decided at ``at``, built as ``claims.services.adjudication`` builds
    them: for a replacement or void, whether its original was still open (not replaced or voided before)."""
    spans = world.enrollments.get(claim.member, [])
    original = world.claims.get(claim.related_id) if claim.related_id is not None else None
    original_open = False
    if original is not None and at is not None and claim.relation in ENDING:
        ended = original.ended_at()
        original_open = ended is None or ended >= at
    return ClaimFacts(
        claim_id=claim.id,
        received_on=claim.received_at.astimezone(dt.UTC).date(),
        service_date_from=claim.sdf,
        total_charge=claim.total_charge,
        code_problems=claim.problems,
        coverage=tuple((start, end) for plan, start, end in spans if plan == claim.plan),
        enrolled_anywhere=bool(spans),
        in_network=(claim.plan, claim.billing) in world.network,
        lines=tuple(
            LineFacts(
                line.number,
                line.code,
                line.modifiers,
                line.charge,
                line.units,
                line.service_date,
                line.place or claim.place,  # SV1-05 empty: the claim's CLM05-1, as the service reads it
            )
            for line in claim.lines
        ),
        frequency_code=claim.frequency,
        relation=claim.relation,
        original_open=original_open,
    )


def cas_of(decision: ClaimDecision) -> list[tuple[int, str, str, str, Decimal]]:
    """The CAS rows of a decision as the adjudication service writes them (``adjustment_rows``)."""
    rows = [(0, a.group, a.carc, a.rarc, a.amount) for a in decision.adjustments]
    rows += [
        (line.line_number, a.group, a.carc, a.rarc, a.amount)
        for line in decision.lines
        for a in line.adjustments
    ]
    return rows


def deductible_spent(claim: Stored) -> Decimal:
    return sum(
        (amount for _, group, carc, _, amount in claim.cas if (group, carc) == ("PR", Carc.DEDUCTIBLE)), ZERO
    )


def plan_year_key(claim: Stored) -> tuple[int, int, int]:
    return (claim.member, claim.plan, claim.sdf.year)


def mismatches(world: World) -> list[str]:
    """Every difference between what is stored and what the engine (or, for an examiner's denial, the writer's
    ``denied_in_full``) gives for the same claim. Empty when the history is the engine's."""
    found: list[str] = []
    decided: list[tuple[dt.datetime, int, bool]] = []
    for claim in world.claims.values():
        found += _ending(world, claim)
        index = claim.decisive()
        if index is None:
            found += _undecided(claim)
            continue
        _, to_status, at, source, note = claim.history[index]
        if source == StatusSource.ADJUDICATION:
            previous = claim.history[index - 1]
            reviewed = (previous[0], previous[1], previous[3]) == (
                ClaimStatus.PENDED,
                ClaimStatus.VALIDATED,
                StatusSource.EXAMINER,
            )
            decided.append((at, claim.id, reviewed))
        elif source == StatusSource.EXAMINER and to_status == ClaimStatus.DENIED:
            carc = note.removeprefix("CARC ")
            edit = Edit("examiner_denied", Action.DENY_CLAIM, "Denied by claims staff", carc=carc)
            decision = denied_in_full(facts_of(world, claim).lines, claim.total_charge, edit)
            found += _compare(claim, decision, index, edits=None)
        else:
            found.append(f"claim {claim.id}: decided by {source!r} -> {to_status}")
    # The engine's decisions in decision order, each with the deductible the earlier ones left; an approved
    # original gives its deductible back when the engine first decides the replacement or void that ends it
    # (before deciding that claim: events at one moment go by claim id, the give-back first).
    events: list[tuple[dt.datetime, int, int, Stored, bool]] = [
        (at, claim_id, 1, world.claims[claim_id], reviewed) for at, claim_id, reviewed in decided
    ]
    for claim in world.claims.values():
        if claim.relation in ENDING and claim.related_id is not None:
            original = world.claims[claim.related_id]
            ended = original.ended_at()
            if ended is not None and _status_before_end(original) == ClaimStatus.APPROVED:
                events.append((ended, claim.id, 0, original, False))
    met: dict[tuple[int, int, int], Decimal] = defaultdict(lambda: ZERO)
    for at, _, kind, claim, reviewed in sorted(events, key=lambda e: e[:3]):
        key = plan_year_key(claim)
        if kind == 0:
            met[key] = max(met[key] - deductible_spent(claim), ZERO)
            continue
        plan = world.plans[claim.plan]
        decision = decide(
            facts_of(world, claim, at),
            benefits_of(plan),
            deductible_left=max(plan.deductible - met[key], ZERO),
            reviewed=reviewed,
        )
        index = claim.decisive()
        assert index is not None
        found += _compare(claim, decision, index, edits=decision.edits)
        met[key] += deductible_spent(claim)
        if key not in world.accumulators:
            found.append(f"claim {claim.id}: no accumulator row for {key}")
    for key, value in world.accumulators.items():
        if value != met.get(key, ZERO):
            found.append(f"accumulator {key}: deductible met {value}, its claims' PR-1 {met.get(key, ZERO)}")
    return found


def _status_before_end(claim: Stored) -> str:
    return next(old for old, to, _, _, _ in claim.history if to in ENDED and old in DECIDED)


def _ending(world: World, claim: Stored) -> list[str]:
    """A replacement or void ends its original when the engine first decides it, with the service's note."""
    if claim.relation not in ENDING or claim.related_id is None:
        return []
    original = world.claims[claim.related_id]
    first = next(
        (
            at
            for old, _, at, source, _ in claim.history
            if old == ClaimStatus.VALIDATED and source == "adjudication"
        ),
        None,
    )
    replaced = claim.relation == ClaimRelation.REPLACES
    expected = (
        []
        if first is None
        else [
            (
                ClaimStatus.REPLACED if replaced else ClaimStatus.VOIDED,
                first,
                StatusSource.ADJUDICATION,
                note_ended(replaced=replaced, by_claim_id=claim.id),
            )
        ]
    )
    stored = [(to, at, source, note) for old, to, at, source, note in original.history if to in ENDED]
    if stored != expected:
        return [f"claim {original.id}: ended {stored!r}, by claim {claim.id} {expected!r}"]
    return []


def _undecided(claim: Stored) -> list[str]:
    """A claim nothing decided yet (received, validated): no money, no line decisions, no CAS."""
    money = (claim.paid, claim.allowed, claim.responsibility)
    lines = [(line.allowed, line.paid, line.decision) for line in claim.lines]
    if claim.cas or money != (ZERO, ZERO, ZERO) or any(line != (ZERO, ZERO, "") for line in lines):
        return [f"claim {claim.id}: undecided ({claim.status}) but carries a decision"]
    return []


def _compare(claim: Stored, decision: ClaimDecision, index: int, *, edits: list[str] | None) -> list[str]:
    """Differences between a stored claim and ``decision``, made by its history row ``index``."""
    _, to_status, at, source, note = claim.history[index]
    ended = index < len(claim.history) - 1
    pended = decision.status == ClaimStatus.PENDED
    expected: dict[str, object] = {
        "decision row": decision.status,
        "status": claim.history[-1][1] if ended else decision.status,
        "carc": decision.carc,
        # A replacement or void takes the claim out of the work queue: its pend reason goes.
        "pend reason": decision.pend_reason if pended and not ended else "",
        "paid": decision.paid,
        "allowed": decision.allowed,
        "patient responsibility": decision.patient_responsibility,
        "lines": [(line.allowed, line.paid, line.status) for line in decision.lines]
        or [(ZERO, ZERO, "")] * len(claim.lines),
        "cas": cas_of(decision),
    }
    stored: dict[str, object] = {
        "decision row": to_status,
        "status": claim.status,
        "carc": claim.carc,
        "pend reason": claim.pend_reason,
        "paid": claim.paid,
        "allowed": claim.allowed,
        "patient responsibility": claim.responsibility,
        "lines": [(line.allowed, line.paid, line.decision) for line in claim.lines],
        "cas": claim.cas,
    }
    if source == StatusSource.ADJUDICATION:
        # The note the adjudication service writes.
        expected["note"] = (
            ""
            if decision.status == ClaimStatus.APPROVED
            else (f"CARC {decision.carc}" if decision.carc else decision.pend_reason)
        )
        stored["note"] = note
    if edits is not None:
        expected["edits"], stored["edits"] = tuple(edits), claim.edits
    expected["processing ms"] = int((at - claim.received_at).total_seconds() * 1000)
    stored["processing ms"] = claim.ms
    return [
        f"claim {claim.id}: {name} stored {stored[name]!r}, engine {value!r}"
        for name, value in expected.items()
        if stored[name] != value
    ]


# -- the checks ---------------------------------------------------------------------------------------------


def test_every_decision_is_the_engines_on_the_facts_read_back(report: GenerationReport) -> None:
    world = read_world()
    assert len(world.claims) == CLAIMS
    assert mismatches(world) == []
    sources = Counter(
        (claim.history[i][3], claim.history[i][1])
        for claim in world.claims.values()
        if (i := claim.decisive()) is not None
    )
    # All kinds of decision are there: the engine's outcomes (voids included), reviewed approvals, examiner
    # denials; exact duplicates denied CARC 18, replacements and voids that ended their originals.
    assert {
        (StatusSource.ADJUDICATION, ClaimStatus.APPROVED),
        (StatusSource.ADJUDICATION, ClaimStatus.DENIED),
        (StatusSource.ADJUDICATION, ClaimStatus.PENDED),
        (StatusSource.ADJUDICATION, ClaimStatus.VOIDED),
        (StatusSource.EXAMINER, ClaimStatus.DENIED),
    } <= set(sources)
    duplicates = [c for c in world.claims.values() if c.relation == ClaimRelation.DUPLICATE_OF]
    assert duplicates and all(c.carc == Carc.DUPLICATE for c in duplicates if c.status == ClaimStatus.DENIED)
    assert {c.status for c in world.claims.values() if c.relation == ClaimRelation.REPLACES} & {
        ClaimStatus.APPROVED,
        ClaimStatus.DENIED,
    }
    assert any(c.ended_at() is not None for c in world.claims.values())
    reviewed = [
        claim.id
        for claim in world.claims.values()
        if any(step[:2] == (ClaimStatus.PENDED, ClaimStatus.VALIDATED) for step in claim.history)
    ]
    assert reviewed
    # The deductible is really carried from claim to claim: some decisions had only part of it left.
    assert any(0 < met < world.plans[plan].deductible for (_, plan, _), met in world.accumulators.items())


def test_the_check_catches_a_tampered_decision(report: GenerationReport) -> None:
    world = read_world()
    approved = [
        c
        for c in world.claims.values()
        if c.status == ClaimStatus.APPROVED and any(line.paid > 0 for line in c.lines)
    ]
    victim = approved[len(approved) // 2]
    line = next(line for line in victim.lines if line.paid > 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE claims_claimline SET paid = paid + 0.01 WHERE claim_id = %s AND line_number = %s",
            [victim.id, line.number],
        )
    found = mismatches(read_world())
    assert found and all(text.startswith(f"claim {victim.id}: lines") for text in found)


def test_the_check_catches_a_deductible_spent_out_of_order(report: GenerationReport) -> None:
    # Remove one PR-1 adjustment: the claim no longer matches, the accumulator no longer adds up, and the
    # member's later claims in that plan year had less deductible left than the ledger now says.
    world = read_world()
    spender = next(
        c
        for c in sorted(world.claims.values(), key=lambda c: c.id)
        if c.status == ClaimStatus.APPROVED and deductible_spent(c) > 0
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM claims_claimadjustment WHERE id = (SELECT min(id) FROM claims_claimadjustment "
            "WHERE claim_id = %s AND group_code = 'PR' AND carc = '1')",
            [spender.id],
        )
    found = mismatches(read_world())
    assert any(text.startswith(f"claim {spender.id}: cas") for text in found)
    assert any(text.startswith(f"accumulator {plan_year_key(spender)}") for text in found)


def test_charge_is_paid_plus_adjustments_for_every_decided_line_and_claim(report: GenerationReport) -> None:
    world = read_world()
    decided_claims = 0
    for claim in world.claims.values():
        if not any(line.decision for line in claim.lines):  # pended, not decided yet, or a void
            assert claim.cas == [], claim.id
            continue
        decided_claims += 1
        for line in claim.lines:
            adjustments = sum((a[4] for a in claim.cas if a[0] == line.number), ZERO)
            assert line.charge == line.paid + adjustments, (claim.id, line.number)
            assert ZERO <= line.paid <= line.allowed <= line.charge, (claim.id, line.number)
        assert claim.total_charge == claim.paid + sum((a[4] for a in claim.cas), ZERO), claim.id
        assert claim.paid == sum((line.paid for line in claim.lines), ZERO), claim.id
    assert decided_claims > CLAIMS * 0.9


def test_the_outcome_mix_is_a_plans(report: GenerationReport) -> None:
    world = read_world()
    effective = [c for c in world.claims.values() if c.status not in ENDED]
    share = {status: n / len(effective) for status, n in Counter(c.status for c in effective).items()}
    assert share[ClaimStatus.APPROVED] >= 0.85
    assert 0.03 <= share[ClaimStatus.DENIED] <= 0.10
    assert 0.003 <= share[ClaimStatus.PENDED] <= 0.04
    carcs = Counter(c.carc for c in effective if c.status == ClaimStatus.DENIED)
    # Out of network under the closed-network plans, timely filing, coverage, code problems, duplicates, and
    # the examiners' denials after review.
    assert {Carc.OUT_OF_NETWORK, Carc.TIMELY_FILING, Carc.MISSING_INFORMATION, Carc.DUPLICATE} <= set(carcs)
    assert {Carc.BEFORE_COVERAGE, Carc.AFTER_COVERAGE} & set(carcs)
    assert len(carcs) >= 7
    pend_reasons = Counter(
        step[4] for c in world.claims.values() for step in c.history if step[1] == ClaimStatus.PENDED
    )
    assert {"unlisted", "high_charge"} <= set(pend_reasons)
    # Some pended claims are still in the work queue at the end.
    assert any(c.status == ClaimStatus.PENDED and c.pend_reason for c in effective)
    # The money is the engine's: in network, contractual write-offs; deductible, copay and coinsurance.
    groups = Counter((a[1], a[2]) for c in world.claims.values() for a in c.cas)
    assert {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3"), ("CO", "242")} <= set(groups)


def test_unlisted_services_are_the_engines_unlisted_codes() -> None:
    assert {service.code for service in UNLISTED_SERVICES.values()} <= UNLISTED_CODES
