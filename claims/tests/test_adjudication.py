"""The adjudication service on real PostgreSQL: a real 837P through validation to a decision, re-adjudication
after an eligibility fix, a failed run, a dry run, and two runs spending one member's deductible at once (with a
negative control that removes the accumulator lock)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from claims.lifecycle import ClaimStatus
from claims.models import AdjudicationRun, Claim, ClaimAdjustment, ClaimLine, ClaimStatusHistory
from claims.services import adjudication
from claims.services.adjudication import claims_adjudicate, claims_readjudicate
from claims.services.ingest import batch_ingest
from claims.services.validation import batch_validate
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from members.models import Enrollment, HealthPlan, MemberAccumulator
from members.tests.factories import HealthPlanFactory, MemberFactory
from ops.platform.models import RunOutcome
from providers.models import ProviderNetwork

UHIN = "837P/uhin/837.edi"  # one claim: CLM*1606, $2.00, 90834 on 2024-08-15, payer 55555 (commercial)


def _balanced(claim: Claim) -> None:
    lines = list(ClaimLine.objects.filter(claim_id=claim.id, service_date_from=claim.service_date_from))
    for line in lines:
        adjusted = ClaimAdjustment.objects.filter(claim_id=claim.id, line_number=line.line_number).aggregate(
            s=Sum("amount")
        )["s"] or Decimal("0")
        assert line.charge == line.paid + adjusted, line.line_number
    total = ClaimAdjustment.objects.filter(claim_id=claim.id).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    assert claim.total_charge == claim.total_paid + total


@pytest.mark.django_db
def test_real_claim_is_pended_for_eligibility_then_approved_after_the_enrollment_is_added(
    shared_x12: Path,
) -> None:
    result = batch_ingest(path=shared_x12 / UHIN)
    batch_validate(batch_id=result.batch.id, path=shared_x12 / UHIN)
    claim = Claim.objects.get(batch=result.batch)
    assert claim.status == ClaimStatus.VALIDATED
    HealthPlan.objects.filter(pk=claim.health_plan_id).update(filing_limit_days=2000)

    first = claims_adjudicate(batch_id=result.batch.id)

    claim.refresh_from_db()
    assert (claim.status, claim.pend_reason, claim.edits) == (
        "pended",
        "eligibility",
        ["eligibility_not_on_file"],
    )
    assert first.run.outcome == RunOutcome.SUCCESS and first.run.pended == 1
    Enrollment.objects.create(
        member_id=claim.member_id, plan_id=claim.health_plan_id, effective_date=dt.date(2024, 1, 1)
    )
    ProviderNetwork.objects.create(provider_id=claim.billing_provider_id, plan_id=claim.health_plan_id)
    examiner = User.objects.create_user("examiner")

    again = claims_readjudicate(claim_ids=[claim.id], actor=examiner)

    claim.refresh_from_db()
    assert again.decided == {"approved": 1}
    assert (claim.status, claim.pend_reason, claim.denial_reason_code) == ("approved", "", "")
    # $2.00 is below the fee schedule: allowed at charge, and all of it goes to the $25 copay.
    assert (claim.allowed, claim.total_paid, claim.patient_responsibility) == (
        Decimal("2.00"),
        Decimal("0.00"),
        Decimal("2.00"),
    )
    assert list(
        ClaimAdjustment.objects.filter(claim_id=claim.id).values_list("group_code", "carc", "amount")
    ) == [("PR", "3", Decimal("2.00"))]
    assert claim.processing_ms is not None and claim.processing_ms >= 0
    moves = list(
        ClaimStatusHistory.objects.filter(claim_id=claim.id)
        .order_by("changed_at", "id")
        .values_list("from_status", "to_status", "source", "changed_by")
    )
    assert moves[-3:] == [
        ("validated", "pended", "adjudication", None),
        ("pended", "validated", "examiner", examiner.pk),
        ("validated", "approved", "adjudication", None),
    ]
    _balanced(claim)


@pytest.mark.django_db
def test_real_claim_received_long_after_service_is_denied_for_timely_filing(shared_x12: Path) -> None:
    result = batch_ingest(path=shared_x12 / UHIN)
    batch_validate(batch_id=result.batch.id, path=shared_x12 / UHIN)
    claim = Claim.objects.get(batch=result.batch)
    Enrollment.objects.create(
        member_id=claim.member_id, plan_id=claim.health_plan_id, effective_date=dt.date(2024, 1, 1)
    )

    claims_adjudicate()

    claim.refresh_from_db()
    assert (claim.status, claim.denial_reason_code, claim.total_paid, claim.edits) == (
        "denied",
        "29",
        Decimal("0.00"),
        ["timely_filing"],
    )
    line = ClaimLine.objects.get(claim_id=claim.id)
    assert (line.decision, line.paid) == ("denied", Decimal("0.00"))
    assert list(
        ClaimAdjustment.objects.filter(claim_id=claim.id).values_list("group_code", "carc", "amount")
    ) == [("CO", "29", Decimal("2.00"))]
    _balanced(claim)


def _waiting_claim(plan: HealthPlan, member, charge: str = "300.00") -> Claim:  # type: ignore[no-untyped-def]
    claim = ClaimFactory(
        status=ClaimStatus.VALIDATED, member=member, health_plan=plan, total_charge=Decimal(charge)
    )
    ClaimLineFactory(claim=claim, line_number=1, procedure_code="99215", charge=Decimal(charge))
    ProviderNetwork.objects.get_or_create(provider_id=claim.billing_provider_id, plan=plan)
    return claim


@pytest.mark.django_db
def test_dry_run_decides_nothing_and_a_failed_run_leaves_claims_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = HealthPlanFactory()
    member = MemberFactory()
    Enrollment.objects.create(member=member, plan=plan, effective_date=dt.date(2020, 1, 1))
    claim = _waiting_claim(plan, member)

    dry = claims_adjudicate(dry_run=True)
    assert dry.decided == {"approved": 1}
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VALIDATED and not ClaimAdjustment.objects.exists()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(adjudication, "_write", broken)
    with pytest.raises(RuntimeError):
        claims_adjudicate(trigger="test")

    claim.refresh_from_db()
    run = AdjudicationRun.objects.get(trigger="test")
    assert claim.status == ClaimStatus.VALIDATED
    assert (run.outcome, run.error, run.claims) == (RunOutcome.FAILED, "RuntimeError: disk full", 0)


@pytest.mark.django_db
def test_adjudicate_command_prints_counts_and_edits(capsys: pytest.CaptureFixture[str]) -> None:
    plan = HealthPlanFactory(plan_type="HM")
    member = MemberFactory()
    Enrollment.objects.create(member=member, plan=plan, effective_date=dt.date(2020, 1, 1))
    _waiting_claim(plan, member)
    outside = ClaimFactory(status=ClaimStatus.VALIDATED, member=member, health_plan=plan)
    ClaimLineFactory(claim=outside, line_number=1)

    call_command("adjudicate")

    out = capsys.readouterr().out
    assert "decided 2 claims" in out and "approved 1, denied 1, pended 0" in out
    assert "out_of_network_denied: 1" in out


def _two_runs_at_once(claims: list[Claim]) -> None:
    start = threading.Barrier(2, timeout=10)

    def run(claim: Claim) -> None:
        try:
            start.wait()
            claims_adjudicate(claim_ids=[claim.id], trigger=f"thread {claim.id}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def _slow_write(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hold each run between reading the accumulator and writing it, so the two runs overlap for certain.
    real = adjudication._write

    def write(*args: object, **kwargs: object) -> None:
        threading.Event().wait(0.5)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(adjudication, "_write", write)


def _deductible_claims() -> tuple[list[Claim], HealthPlan]:
    """Two claims of one member, each allowed $175.02 (99215: 5.24 RVU x $33.4009), against a $200 deductible.

    The member's accumulator row exists already (as it does after the member's first claim of the year), so the
    two runs meet only at its row lock, not at its creation.
    """
    plan = HealthPlanFactory(deductible=Decimal("200.00"), copay=Decimal("0.00"))
    member = MemberFactory()
    Enrollment.objects.create(member=member, plan=plan, effective_date=dt.date(2020, 1, 1))
    claims = [_waiting_claim(plan, member, "400.00"), _waiting_claim(plan, member, "400.00")]
    MemberAccumulator.objects.create(member=member, plan=plan, plan_year=claims[0].service_date_from.year)
    return claims, plan


@pytest.mark.django_db(transaction=True)
def test_two_runs_deciding_one_members_claims_at_once_spend_the_deductible_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claims, plan = _deductible_claims()
    _slow_write(monkeypatch)

    _two_runs_at_once(claims)

    spent = ClaimAdjustment.objects.filter(carc="1").aggregate(s=Sum("amount"))["s"]
    accumulator = MemberAccumulator.objects.get(plan=plan)
    # The first run spends $175.02 of the $200 deductible, the second (after the first's commit) the $24.98 left.
    assert spent == accumulator.deductible_met == Decimal("200.00")
    assert set(Claim.objects.values_list("status", flat=True)) == {"approved"}


@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_accumulator_lock_the_deductible_is_spent_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Same race, lock removed: both runs read "nothing met", and the claims' PR-1 no longer matches the row.
    claims, plan = _deductible_claims()
    monkeypatch.setattr(adjudication, "_ACCUMULATOR_LOCK", "")
    _slow_write(monkeypatch)

    _two_runs_at_once(claims)

    spent = ClaimAdjustment.objects.filter(carc="1").aggregate(s=Sum("amount"))["s"]
    accumulator = MemberAccumulator.objects.get(plan=plan)
    assert spent == Decimal("350.04")  # 175.02 twice: more than the $200 deductible
    assert accumulator.deductible_met == Decimal("175.02")  # and the row kept only the last writer's sum


@pytest.mark.django_db
def test_metrics_count_decisions_by_outcome_and_edit_and_give_the_p95(client) -> None:  # type: ignore[no-untyped-def]
    plan = HealthPlanFactory(plan_type="HM")
    member = MemberFactory()
    Enrollment.objects.create(member=member, plan=plan, effective_date=dt.date(2020, 1, 1))
    _waiting_claim(plan, member)
    outside = ClaimFactory(status=ClaimStatus.VALIDATED, member=member, health_plan=plan)
    ClaimLineFactory(claim=outside, line_number=1)
    claims_adjudicate()

    body = client.get("/metrics").content.decode()

    assert 'claims_adjudicated_claims_total{outcome="approved"} 1.0' in body
    assert 'claims_adjudicated_claims_total{outcome="denied"} 1.0' in body
    assert 'claims_adjudication_edits_total{edit="out_of_network_denied"} 1.0' in body
    assert "claims_processing_ms_p95 " in body
