"""The adjudication engine, pure: each edit fires on the claim made for it and not on a clean one, and every
decision balances (charge = paid + adjustments, per line and per claim)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from claims.adjudication.edits import EDITS, PendReason
from claims.adjudication.engine import Benefits, ClaimDecision, ClaimFacts, LineFacts, decide
from claims.adjudication.pricing import fee_schedule_amount
from claims.codes import CodeCheckKind
from claims.lifecycle import ClaimStatus
from claims.models import ClaimRelation
from members.models import PlanType

DOS = dt.date(2026, 9, 14)
PPO = Benefits(
    plan_type=PlanType.PPO,
    filing_limit_days=180,
    conversion_factor=Decimal("33.4009"),
    deductible=Decimal("500.00"),
    coinsurance_rate=Decimal("0.20"),
    copay=Decimal("25.00"),
    review_threshold=Decimal("10000.00"),
    out_of_network_rate=Decimal("0.60"),
)
HMO = dataclasses.replace(PPO, plan_type=PlanType.HMO)


def line(n: int = 1, code: str = "99213", charge: str = "150.00", **kw: object) -> LineFacts:
    values: dict[str, object] = {
        "line_number": n,
        "procedure_code": code,
        "modifiers": (),
        "charge": Decimal(charge),
        "units": Decimal("1"),
        "service_date": DOS,
        "place_of_service": "11",
    }
    values.update(kw)
    return LineFacts(**values)  # type: ignore[arg-type]


def claim(*lines: LineFacts, **kw: object) -> ClaimFacts:
    body = lines or (line(),)
    values: dict[str, object] = {
        "claim_id": 1,
        "received_on": DOS + dt.timedelta(days=10),
        "service_date_from": DOS,
        "total_charge": sum((x.charge for x in body), Decimal("0")),
        "code_problems": (),
        "coverage": ((dt.date(2026, 1, 1), None),),
        "enrolled_anywhere": True,
        "in_network": True,
        "lines": body,
    }
    values.update(kw)
    return ClaimFacts(**values)  # type: ignore[arg-type]


def assert_balanced(facts: ClaimFacts, decision: ClaimDecision) -> None:
    for fact, decided in zip(facts.lines, decision.lines, strict=True):
        assert fact.charge == decided.paid + sum(a.amount for a in decided.adjustments), fact.line_number
        assert all(a.amount > 0 for a in decided.adjustments)
    adjustments = sum((a.amount for d in decision.lines for a in d.adjustments), Decimal("0"))
    assert facts.total_charge == decision.paid + adjustments


def test_clean_claim_is_priced_from_the_fee_schedule_with_copay_deductible_and_coinsurance() -> None:
    facts = claim(line(1, "99213", "150.00"), line(2, "36415", "20.00"))

    decision = decide(facts, PPO, deductible_left=Decimal("40.00"))

    schedule = fee_schedule_amount(
        procedure_code="99213",
        units=Decimal("1"),
        place_of_service="11",
        conversion_factor=PPO.conversion_factor,
    )
    assert schedule == Decimal("88.51")  # 2.65 RVU x $33.4009
    first, second = decision.lines
    assert decision.status == ClaimStatus.APPROVED and decision.edits == []
    assert (first.allowed, first.paid) == (Decimal("88.51"), Decimal("18.81"))
    assert [(a.group, a.carc, a.amount) for a in first.adjustments] == [
        ("CO", "45", Decimal("61.49")),
        ("PR", "3", Decimal("25.00")),
        ("PR", "1", Decimal("40.00")),
        ("PR", "2", Decimal("4.70")),
    ]
    # 36415 has no RVU here (paid outside the PFS): allowed at charge, deductible used up, coinsurance only.
    assert (second.allowed, second.paid) == (Decimal("20.00"), Decimal("16.00"))
    assert decision.deductible_applied == Decimal("40.00")
    assert decision.patient_responsibility == Decimal("73.70")
    assert_balanced(facts, decision)


def test_member_with_no_enrollment_at_all_is_pended_for_eligibility() -> None:
    decision = decide(claim(enrolled_anywhere=False, coverage=()), PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.pend_reason, decision.edits) == (
        ClaimStatus.PENDED,
        PendReason.ELIGIBILITY,
        ["eligibility_not_on_file"],
    )
    assert decision.lines == []


@pytest.mark.parametrize(
    ("coverage", "carc"),
    [(((dt.date(2026, 10, 1), None),), "26"), (((dt.date(2025, 1, 1), dt.date(2026, 8, 31)),), "27")],
)
def test_service_outside_coverage_denies_the_line(coverage: tuple, carc: str) -> None:
    facts = claim(coverage=coverage)

    decision = decide(facts, PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.carc) == (ClaimStatus.DENIED, carc)
    assert [(a.group, a.carc, a.amount) for a in decision.lines[0].adjustments] == [
        ("CO", carc, Decimal("150.00"))
    ]
    assert_balanced(facts, decision)


def test_one_line_outside_coverage_leaves_the_claim_approved_with_that_line_denied() -> None:
    late = line(2, "99213", "150.00", service_date=dt.date(2026, 10, 2))
    facts = claim(line(1), late, coverage=((dt.date(2026, 1, 1), dt.date(2026, 9, 30)),))

    decision = decide(facts, PPO, deductible_left=Decimal("0"))

    assert decision.status == ClaimStatus.APPROVED
    assert [d.status for d in decision.lines] == [ClaimStatus.APPROVED, ClaimStatus.DENIED]
    assert decision.edits == ["after_coverage"]
    assert_balanced(facts, decision)


def test_timely_filing_denies_past_the_limit_and_not_on_the_last_day() -> None:
    late = decide(claim(received_on=DOS + dt.timedelta(days=181)), PPO, deductible_left=Decimal("0"))
    in_time = decide(claim(received_on=DOS + dt.timedelta(days=180)), PPO, deductible_left=Decimal("0"))

    assert (late.status, late.carc, late.edits) == (ClaimStatus.DENIED, "29", ["timely_filing"])
    assert in_time.status == ClaimStatus.APPROVED


@pytest.mark.parametrize(
    ("problem", "edit", "rarc"),
    [
        (CodeCheckKind.ICD10_INVALID.message(code="Z999"), "diagnosis_invalid", "M76"),
        (CodeCheckKind.ICD10_NOT_BILLABLE.message(code="E11"), "diagnosis_invalid", "M76"),
        (CodeCheckKind.BILLING_NPI_CHECK_DIGIT.message(npi="1234567890"), "billing_npi_invalid", "N257"),
    ],
)
def test_code_problems_deny_with_carc_16_and_the_rarc(problem: str, edit: str, rarc: str) -> None:
    decision = decide(claim(code_problems=(problem,)), PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.carc, decision.edits) == (ClaimStatus.DENIED, "16", [edit])
    assert decision.lines[0].adjustments[0].rarc == rarc


def test_a_rendering_npi_problem_alone_does_not_deny() -> None:
    problem = CodeCheckKind.RENDERING_NPI_CHECK_DIGIT.message(npi="1234567890")

    assert (
        decide(claim(code_problems=(problem,)), PPO, deductible_left=Decimal("0")).status
        == ClaimStatus.APPROVED
    )


@pytest.mark.parametrize(
    ("bad", "carc"), [(line(code="9921"), "181"), (line(code="99213", modifiers=("2",)), "182")]
)
def test_malformed_procedure_or_modifier_denies_the_line(bad: LineFacts, carc: str) -> None:
    decision = decide(claim(bad), PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.carc) == (ClaimStatus.DENIED, carc)
    assert decide(claim(line(code="G0008", modifiers=("25",))), PPO, deductible_left=Decimal("0")).status == (
        ClaimStatus.APPROVED
    )


def test_out_of_network_is_denied_under_an_hmo_and_priced_lower_under_a_ppo() -> None:
    facts = claim(in_network=False)

    hmo = decide(facts, HMO, deductible_left=Decimal("0"))
    ppo = decide(facts, PPO, deductible_left=Decimal("0"))
    in_network = decide(claim(), PPO, deductible_left=Decimal("0"))

    assert (hmo.status, hmo.carc) == (ClaimStatus.DENIED, "242")
    assert ppo.status == ClaimStatus.APPROVED and ppo.edits == ["out_of_network_priced"]
    assert ppo.lines[0].allowed == Decimal("53.11")  # 88.51 x 0.60
    assert ("PR", "45") in [(a.group, a.carc) for a in ppo.lines[0].adjustments]
    assert ppo.paid < in_network.paid
    assert_balanced(facts, ppo)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (claim(line(code="99499")), PendReason.UNLISTED),
        (claim(line(charge="12000.00")), PendReason.HIGH_CHARGE),
        (claim(line(modifiers=("22",))), PendReason.MODIFIER_22),
    ],
)
def test_review_pends_carry_their_reason(facts: ClaimFacts, reason: str) -> None:
    decision = decide(facts, PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.pend_reason) == (ClaimStatus.PENDED, reason)
    assert EDITS[decision.edits[0]].pend_reason == reason


def test_facility_place_of_service_prices_lower() -> None:
    office = fee_schedule_amount(
        procedure_code="99213",
        units=Decimal("2"),
        place_of_service="11",
        conversion_factor=Decimal("33.4009"),
    )
    hospital = fee_schedule_amount(
        procedure_code="99213",
        units=Decimal("2"),
        place_of_service="22",
        conversion_factor=Decimal("33.4009"),
    )

    assert (office, hospital) == (Decimal("177.02"), Decimal("141.62"))  # 5.30 RVU x $33.4009 (x 0.80)


def test_total_that_is_not_the_sum_of_its_lines_is_denied_with_m54_and_still_balances() -> None:
    facts = claim(line(1, "99213", "150.00"), total_charge=Decimal("160.00"))

    decision = decide(facts, PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.carc, decision.edits) == (ClaimStatus.DENIED, "16", ["charge_mismatch"])
    assert decision.lines[0].adjustments[0].rarc == "M54"
    assert [(a.group, a.carc, a.amount) for a in decision.adjustments] == [("CO", "16", Decimal("10.00"))]
    line_cas = sum((a.amount for d in decision.lines for a in d.adjustments), Decimal("0"))
    assert facts.total_charge == decision.paid + line_cas + sum(a.amount for a in decision.adjustments)
    assert decide(claim(line(1, "99213", "150.00")), PPO, deductible_left=Decimal("0")).status == "approved"


def test_exact_duplicate_is_denied_carc_18_on_every_line_and_an_original_is_not() -> None:
    facts = claim(line(1, "99213", "150.00"), line(2, "36415", "20.00"), relation=ClaimRelation.DUPLICATE_OF)

    decision = decide(facts, PPO, deductible_left=Decimal("500.00"))

    assert (decision.status, decision.carc, decision.edits) == (ClaimStatus.DENIED, "18", ["exact_duplicate"])
    assert [(a.group, a.carc, a.amount) for d in decision.lines for a in d.adjustments] == [
        ("CO", "18", Decimal("150.00")),
        ("CO", "18", Decimal("20.00")),
    ]
    assert decision.deductible_applied == 0
    assert_balanced(facts, decision)
    # Not linked as a duplicate (even with everything else equal): decided as usual.
    assert decide(claim(line(1, "99213", "150.00")), PPO, deductible_left=Decimal("0")).status == "approved"


def test_replacement_with_an_open_original_is_decided_in_its_place() -> None:
    facts = claim(frequency_code="7", relation=ClaimRelation.REPLACES, original_open=True)

    decision = decide(facts, PPO, deductible_left=Decimal("0"))

    assert decision.status == ClaimStatus.APPROVED and decision.edits == ["replacement"] and decision.paid > 0
    assert_balanced(facts, decision)


def test_void_with_an_open_original_is_voided_and_pays_nothing() -> None:
    decision = decide(
        claim(frequency_code="8", relation=ClaimRelation.VOIDS, original_open=True),
        PPO,
        deductible_left=Decimal("0"),
    )

    assert (decision.status, decision.edits, decision.paid, decision.lines) == (
        ClaimStatus.VOIDED,
        ["void"],
        Decimal("0"),
        [],
    )


@pytest.mark.parametrize(
    "facts",
    [
        claim(
            frequency_code="7", relation=ClaimRelation.REPLACES, original_open=False
        ),  # original already ended
        claim(frequency_code="8", relation=ClaimRelation.VOIDS, original_open=False),
        claim(frequency_code="7"),  # ingest found no original
        claim(frequency_code="8"),
    ],
)
def test_replacement_or_void_without_an_open_original_is_pended_for_an_examiner(facts: ClaimFacts) -> None:
    decision = decide(facts, PPO, deductible_left=Decimal("0"))

    assert (decision.status, decision.pend_reason, decision.edits) == (
        ClaimStatus.PENDED,
        PendReason.ORIGINAL,
        ["original_not_open"],
    )
