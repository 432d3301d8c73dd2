"""The examiner services on real PostgreSQL: assign, approve, deny, pend and a supervisor's override, each with
its compare-and-set on the status the examiner saw, and two examiners acting on one pended claim at once.

The negative control of the compare-and-set itself (drop the status condition and both actors "win") is
claims/tests/test_lifecycle.py::test_negative_control_without_compare_and_set_both_examiners_win: every service
here writes status through that one writer, so it is not repeated.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from claims.adjudication.edits import PendReason
from claims.lifecycle import ClaimStatus, StatusSource
from claims.models import (
    AdjudicationRun,
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimStatusHistory,
    Remittance,
    RemittanceRun,
)
from claims.services.adjudication import claims_adjudicate
from claims.services.examiner import (
    ActionRefused,
    SeenClaim,
    claims_approve,
    claims_assign,
    claims_deny,
    claims_override,
    claims_pend,
)
from claims.services.lifecycle import StatusChange, StatusConflict, claims_status_change
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from members.models import HealthPlan, Member, MemberAccumulator
from members.tests.factories import EnrollmentFactory, HealthPlanFactory, MemberFactory
from providers.models import ProviderNetwork

# --- helpers ---------------------------------------------------------------------------------------------------


def _plan(**terms: Any) -> HealthPlan:
    # A review threshold below the claims' charges: the engine pends them (high charge) unless reviewed.
    return HealthPlanFactory(
        **{"review_threshold": Decimal("100.00"), "deductible": Decimal("0.00"), **terms}
    )


def _claim(
    plan: HealthPlan,
    *,
    status: str = ClaimStatus.PENDED,
    member: Member | None = None,
    enrolled: bool = True,
    charges: tuple[str, ...] = ("300.00", "200.00"),
) -> Claim:
    """A claim of ``plan`` with one 99213 line per charge, in network, its member enrolled (or not)."""
    member = member or MemberFactory()
    if enrolled and not member.enrollments.filter(plan=plan).exists():
        EnrollmentFactory(member=member, plan=plan)
    claim = ClaimFactory(
        status=status,
        member=member,
        health_plan=plan,
        total_charge=sum((Decimal(c) for c in charges), Decimal("0")),
        pend_reason=PendReason.HIGH_CHARGE if status == ClaimStatus.PENDED else "",
    )
    for number, charge in enumerate(charges, start=1):
        ClaimLineFactory(claim=claim, line_number=number, procedure_code="99213", charge=Decimal(charge))
    ProviderNetwork.objects.get_or_create(provider_id=claim.billing_provider_id, plan=plan)
    return claim


def _seen(claim: Claim) -> SeenClaim:
    """The claim as a page would show it now."""
    status = Claim.objects.values_list("status", flat=True).get(pk=claim.pk)
    return SeenClaim(claim.pk, claim.service_date_from, status)


def _moved_meanwhile(claim: Claim, to_status: str, **decision: Any) -> None:
    """Someone else moves the claim after the page was read (through the one writer, as they would)."""
    claims_status_change(
        changes=[StatusChange(claim.pk, claim.service_date_from, claim.status, to_status, **decision)],
        source=StatusSource.EXAMINER,
    )


def _history(claim: Claim) -> list[tuple[str, str, str, int | None, str]]:
    return list(
        ClaimStatusHistory.objects.filter(claim_id=claim.pk)
        .order_by("changed_at", "id")
        .values_list("from_status", "to_status", "source", "changed_by", "note")
    )


def _lines(claim: Claim) -> list[tuple[int, Decimal, Decimal, Decimal, str]]:
    return list(
        ClaimLine.objects.filter(claim_id=claim.pk, service_date_from=claim.service_date_from)
        .order_by("line_number")
        .values_list("line_number", "charge", "allowed", "paid", "decision")
    )


def _adjustments(claim: Claim) -> list[tuple[int, str, str, str, Decimal]]:
    return list(
        ClaimAdjustment.objects.filter(claim_id=claim.pk)
        .order_by("line_number", "id")
        .values_list("line_number", "group_code", "carc", "rarc", "amount")
    )


def _assert_balanced(claim: Claim) -> None:
    """charge = paid + adjustments, per line and for the claim (the 835's SVC and CLP balancing)."""
    claim.refresh_from_db()
    for number, charge, _, paid, _ in _lines(claim):
        adjusted = ClaimAdjustment.objects.filter(claim_id=claim.pk, line_number=number).aggregate(
            s=Sum("amount")
        )["s"] or Decimal("0")
        assert charge == paid + adjusted, f"line {number}"
    total = ClaimAdjustment.objects.filter(claim_id=claim.pk).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    assert claim.total_charge == claim.total_paid + total


def _snapshot(claim: Claim) -> tuple[Any, ...]:
    """Everything an action could change about a claim, to show that a refused one changed nothing."""
    row = Claim.objects.values_list(
        "status", "denial_reason_code", "total_paid", "allowed", "pend_reason", "assignee_id", "processed_at"
    ).get(pk=claim.pk)
    return row, _lines(claim), _adjustments(claim), _history(claim)


@pytest.fixture
def examiner(django_user_model: Any) -> User:
    return django_user_model.objects.create_user("examiner-1")


# --- assign ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assign_to_me_sets_the_assignee_and_changes_no_status(examiner: User) -> None:
    plan = _plan()
    claims = [_claim(plan), _claim(plan)]

    assigned = claims_assign(claims=[_seen(c) for c in claims], user=examiner)

    assert assigned == 2
    rows = Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("assignee_id", "status")
    assert sorted(rows) == [(examiner.pk, ClaimStatus.PENDED)] * 2
    assert not ClaimStatusHistory.objects.exists()


@pytest.mark.django_db
def test_assign_of_a_claim_no_longer_pended_assigns_none(examiner: User) -> None:
    plan = _plan()
    pended, decided = _claim(plan), _claim(plan)
    _moved_meanwhile(decided, ClaimStatus.DENIED, denial_reason_code="50")

    with pytest.raises(StatusConflict) as raised:
        claims_assign(claims=[_seen(pended), _seen(decided)], user=examiner)

    assert raised.value.claim_ids == [decided.pk]
    assert list(Claim.objects.filter(assignee_id__isnull=False)) == []


# --- approve ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approve_prices_a_pended_claim_as_reviewed_and_writes_history_with_the_examiner(
    examiner: User,
) -> None:
    plan = _plan()
    claim = _claim(plan)

    result = claims_approve(claims=[_seen(claim)], actor=examiner)

    claim.refresh_from_db()
    assert result.decided == {ClaimStatus.APPROVED: 1}
    assert (claim.status, claim.pend_reason, claim.denial_reason_code) == (ClaimStatus.APPROVED, "", "")
    # Priced by the engine: 99213 is allowed at the fee schedule, well under the $300/$200 charged.
    assert Decimal("0") < claim.total_paid < claim.allowed < claim.total_charge
    assert [decision for *_, decision in _lines(claim)] == [ClaimStatus.APPROVED, ClaimStatus.APPROVED]
    assert {(group, carc) for _, group, carc, _, _ in _adjustments(claim)} >= {("CO", "45"), ("PR", "3")}
    assert _history(claim) == [
        (ClaimStatus.PENDED, ClaimStatus.VALIDATED, StatusSource.EXAMINER, examiner.pk, "approved"),
        (ClaimStatus.VALIDATED, ClaimStatus.APPROVED, StatusSource.ADJUDICATION, None, ""),
    ]
    assert AdjudicationRun.objects.get().trigger == "examiner: approve"
    _assert_balanced(claim)


@pytest.mark.django_db
def test_approve_without_enrollment_on_file_pends_the_claim_again(examiner: User) -> None:
    claim = _claim(_plan(), enrolled=False)

    result = claims_approve(claims=[_seen(claim)], actor=examiner)

    claim.refresh_from_db()
    assert result.decided == {ClaimStatus.PENDED: 1}
    assert (claim.status, claim.pend_reason) == (ClaimStatus.PENDED, PendReason.ELIGIBILITY)
    assert not ClaimAdjustment.objects.exists()


@pytest.mark.django_db
def test_approve_of_a_claim_that_moved_since_the_page_changes_nothing(examiner: User) -> None:
    plan = _plan()
    fresh, moved = _claim(plan), _claim(plan)
    seen = [_seen(fresh), _seen(moved)]
    _moved_meanwhile(moved, ClaimStatus.VALIDATED)  # another examiner sent it back for re-adjudication
    before = (_snapshot(fresh), _snapshot(moved))

    with pytest.raises(StatusConflict) as raised:
        claims_approve(claims=seen, actor=examiner)

    assert raised.value.claim_ids == [moved.pk]
    assert (_snapshot(fresh), _snapshot(moved)) == before
    assert not AdjudicationRun.objects.exists()


# --- deny ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deny_puts_the_carc_on_the_claim_and_one_co_adjustment_per_line(examiner: User) -> None:
    claim = _claim(_plan())

    denied = claims_deny(claims=[_seen(claim)], actor=examiner, carc="50", rarc="n115", note="no records")

    claim.refresh_from_db()
    assert denied == 1
    assert (claim.status, claim.denial_reason_code, claim.total_paid, claim.allowed, claim.pend_reason) == (
        ClaimStatus.DENIED,
        "50",
        Decimal("0.00"),
        Decimal("0.00"),
        "",
    )
    assert claim.processing_ms is not None and claim.processing_ms >= 0
    assert _lines(claim) == [
        (1, Decimal("300.00"), Decimal("0.00"), Decimal("0.00"), ClaimStatus.DENIED),
        (2, Decimal("200.00"), Decimal("0.00"), Decimal("0.00"), ClaimStatus.DENIED),
    ]
    assert _adjustments(claim) == [
        (1, "CO", "50", "N115", Decimal("300.00")),
        (2, "CO", "50", "N115", Decimal("200.00")),
    ]
    assert _history(claim) == [
        (ClaimStatus.PENDED, ClaimStatus.DENIED, StatusSource.EXAMINER, examiner.pk, "no records")
    ]
    _assert_balanced(claim)


@pytest.mark.django_db
def test_deny_when_one_claim_moved_since_the_page_denies_none(examiner: User) -> None:
    plan = _plan()
    fresh, moved = _claim(plan), _claim(plan)
    seen = [_seen(fresh), _seen(moved)]
    _moved_meanwhile(moved, ClaimStatus.VALIDATED)  # another examiner sent it back for re-adjudication
    before = (_snapshot(fresh), _snapshot(moved))

    with pytest.raises(StatusConflict) as raised:
        claims_deny(claims=seen, actor=examiner, carc="50")

    assert raised.value.claim_ids == [moved.pk]
    assert (_snapshot(fresh), _snapshot(moved)) == before


@pytest.mark.django_db
@pytest.mark.parametrize(("carc", "rarc"), [("", ""), ("  ", ""), ("fifty", ""), ("50", "X1")])
def test_deny_without_a_valid_carc_or_rarc_is_refused_before_anything_is_written(
    examiner: User, carc: str, rarc: str
) -> None:
    claim = _claim(_plan())
    before = _snapshot(claim)

    with pytest.raises(ActionRefused):
        claims_deny(claims=[_seen(claim)], actor=examiner, carc=carc, rarc=rarc)

    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_deny_of_a_claim_not_seen_as_pended_is_refused(examiner: User) -> None:
    claim = _claim(_plan(), status=ClaimStatus.VALIDATED)

    with pytest.raises(ActionRefused):
        claims_deny(claims=[_seen(claim)], actor=examiner, carc="50")

    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.VALIDATED


# --- pend ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pend_sets_the_reason_on_validated_and_pended_claims(examiner: User) -> None:
    plan = _plan()
    validated, pended = _claim(plan, status=ClaimStatus.VALIDATED), _claim(plan)

    moved = claims_pend(
        claims=[_seen(validated), _seen(pended)], actor=examiner, reason=PendReason.REVIEW, note=""
    )

    assert moved == 2
    assert (
        sorted(Claim.objects.filter(pk__in=[validated.pk, pended.pk]).values_list("status", "pend_reason"))
        == [(ClaimStatus.PENDED, PendReason.REVIEW)] * 2
    )
    assert _history(validated) == [
        (
            ClaimStatus.VALIDATED,
            ClaimStatus.PENDED,
            StatusSource.EXAMINER,
            examiner.pk,
            "Pended for medical review",
        )
    ]
    assert _history(pended)[-1][:4] == (
        ClaimStatus.PENDED,
        ClaimStatus.PENDED,
        StatusSource.EXAMINER,
        examiner.pk,
    )


@pytest.mark.django_db
def test_pend_of_a_claim_that_moved_changes_nothing_and_an_unknown_reason_is_refused(examiner: User) -> None:
    claim = _claim(_plan())
    seen = _seen(claim)
    with pytest.raises(ActionRefused):
        claims_pend(claims=[seen], actor=examiner, reason="bored")
    _moved_meanwhile(claim, ClaimStatus.DENIED, denial_reason_code="50")
    before = _snapshot(claim)

    with pytest.raises(StatusConflict):
        claims_pend(claims=[seen], actor=examiner, reason=PendReason.REVIEW)

    assert _snapshot(claim) == before


# --- supervisor override ---------------------------------------------------------------------------------------


@pytest.fixture
def supervisor(django_user_model: Any) -> User:
    return django_user_model.objects.create_user("supervisor-1")


def _approved_by_the_engine(plan: HealthPlan, member: Member | None = None) -> Claim:
    claim = _claim(plan, status=ClaimStatus.VALIDATED, member=member, charges=("90.00",))
    claims_adjudicate(claim_keys=[(claim.pk, claim.service_date_from)])
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    return claim


def _deductible_met(claim: Claim) -> Decimal:
    return MemberAccumulator.objects.get(
        member_id=claim.member_id, plan_id=claim.health_plan_id, plan_year=claim.service_date_from.year
    ).deductible_met


@pytest.mark.django_db
def test_override_approved_to_denied_denies_every_line_and_gives_the_deductible_back(
    supervisor: User,
) -> None:
    plan = _plan(deductible=Decimal("500.00"))
    claim = _approved_by_the_engine(plan)
    spent = _deductible_met(claim)
    assert spent > 0  # the approval spent some of the member's deductible (PR-1)

    outcome = claims_override(
        claim=_seen(claim), actor=supervisor, to_status=ClaimStatus.DENIED, reason="appeal lost", carc="96"
    )

    claim.refresh_from_db()
    assert outcome is None
    assert (claim.status, claim.denial_reason_code, claim.total_paid, claim.patient_responsibility) == (
        ClaimStatus.DENIED,
        "96",
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert _adjustments(claim) == [(1, "CO", "96", "", Decimal("90.00"))]
    assert _history(claim)[-1] == (
        ClaimStatus.APPROVED,
        ClaimStatus.DENIED,
        StatusSource.SUPERVISOR,
        supervisor.pk,
        "override: appeal lost",
    )
    assert _deductible_met(claim) == Decimal("0.00")
    _assert_balanced(claim)


@pytest.mark.django_db
def test_override_denied_to_approved_is_priced_by_the_engine(examiner: User, supervisor: User) -> None:
    claim = _claim(_plan())
    claims_deny(claims=[_seen(claim)], actor=examiner, carc="50")

    decision = claims_override(
        claim=_seen(claim), actor=supervisor, to_status=ClaimStatus.APPROVED, reason="records received"
    )

    claim.refresh_from_db()
    assert decision is not None and decision.status == ClaimStatus.APPROVED
    assert (claim.status, claim.denial_reason_code) == (ClaimStatus.APPROVED, "")
    assert claim.total_paid == decision.paid > 0
    # The denial's CO-50 entries are gone; the engine's pricing replaced them.
    assert "50" not in {carc for _, _, carc, _, _ in _adjustments(claim)}
    assert _history(claim)[-1] == (
        ClaimStatus.DENIED,
        ClaimStatus.APPROVED,
        StatusSource.SUPERVISOR,
        supervisor.pk,
        "override: records received",
    )
    _assert_balanced(claim)


@pytest.mark.django_db
def test_override_to_approved_that_the_engine_would_not_approve_changes_nothing(
    examiner: User, supervisor: User
) -> None:
    # Out of network under an HMO: the engine denies it (CO-242) whoever looks at it.
    plan = _plan(plan_type="HM")
    claim = _claim(plan)
    ProviderNetwork.objects.filter(plan=plan).delete()
    claims_deny(claims=[_seen(claim)], actor=examiner, carc="50")
    before = _snapshot(claim)

    with pytest.raises(ActionRefused, match="does not decide claim"):
        claims_override(claim=_seen(claim), actor=supervisor, to_status=ClaimStatus.APPROVED, reason="appeal")

    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_override_of_a_claim_that_moved_or_was_remitted_changes_nothing(supervisor: User) -> None:
    plan = _plan()
    claim = _approved_by_the_engine(plan)
    seen_as_denied = SeenClaim(claim.pk, claim.service_date_from, ClaimStatus.DENIED)
    before = _snapshot(claim)

    with pytest.raises(StatusConflict):
        claims_override(claim=seen_as_denied, actor=supervisor, to_status=ClaimStatus.APPROVED, reason="x")
    with pytest.raises(ActionRefused):  # a denial needs a CARC
        claims_override(claim=_seen(claim), actor=supervisor, to_status=ClaimStatus.DENIED, reason="x")
    with pytest.raises(ActionRefused):  # and every override a reason
        claims_override(
            claim=_seen(claim), actor=supervisor, to_status=ClaimStatus.DENIED, reason=" ", carc="96"
        )
    run = RemittanceRun.objects.create(started_at=timezone.now(), payment_date=dt.date.today())
    remittance = Remittance.objects.create(
        run=run,
        payee_id=claim.billing_provider_id,
        trace_number="T1",
        file_name="t.835",
        sha256="0" * 64,
        size_bytes=1,
        claims=1,
        paid=claim.total_paid,
        content="",
    )
    Claim.objects.filter(pk=claim.pk).update(remittance=remittance)
    with pytest.raises(ActionRefused, match="remitted"):
        claims_override(
            claim=_seen(claim), actor=supervisor, to_status=ClaimStatus.DENIED, reason="x", carc="96"
        )

    Claim.objects.filter(pk=claim.pk).update(remittance=None)
    assert _snapshot(claim) == before


# --- two examiners at once -------------------------------------------------------------------------------------


def _two_examiners_act(claim: Claim, actions: dict[str, Callable[[SeenClaim, User], object]]) -> list[str]:
    """Each examiner reads the claim (as their page would), both wait until both have read, then both act."""
    read_both = threading.Barrier(len(actions), timeout=10)
    outcomes: list[str] = []

    def examiner(name: str, act: Callable[[SeenClaim, User], object]) -> None:
        try:
            user = User.objects.get(username=f"examiner-{name}")
            seen = _seen(claim)
            read_both.wait()
            act(seen, user)
            outcomes.append(name)
        except StatusConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=examiner, args=item) for item in actions.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_examiners_acting_on_one_pended_claim_at_once_one_wins_the_other_changes_nothing() -> None:
    for name in ("approve", "deny"):
        User.objects.create_user(f"examiner-{name}")
    claim = _claim(_plan())

    outcomes = _two_examiners_act(
        claim,
        {
            "approve": lambda seen, user: claims_approve(claims=[seen], actor=user),
            "deny": lambda seen, user: claims_deny(claims=[seen], actor=user, carc="50"),
        },
    )

    assert sorted(outcomes) in (["approve", "conflict"], ["conflict", "deny"])
    claim.refresh_from_db()
    history = _history(claim)
    if "deny" in outcomes:
        assert (claim.status, claim.denial_reason_code) == (ClaimStatus.DENIED, "50")
        assert [(h[0], h[1]) for h in history] == [(ClaimStatus.PENDED, ClaimStatus.DENIED)]
    else:
        assert claim.status == ClaimStatus.APPROVED
        assert [(h[0], h[1]) for h in history] == [
            (ClaimStatus.PENDED, ClaimStatus.VALIDATED),
            (ClaimStatus.VALIDATED, ClaimStatus.APPROVED),
        ]
    # The loser wrote nothing: one decision's adjustments only, and they balance.
    _assert_balanced(claim)
