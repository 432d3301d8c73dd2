"""The adjudication service on real PostgreSQL: a real 837P through validation to a decision, re-adjudication
after an eligibility fix, a failed run, a dry run, and two runs spending one member's deductible at once (with a
negative control that removes the accumulator lock)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from claims.adjudication.pricing import fee_schedule_amount
from claims.lifecycle import ClaimStatus
from claims.models import AdjudicationRun, Claim, ClaimAdjustment, ClaimLine, ClaimStatusHistory
from claims.services import adjudication
from claims.services.adjudication import claims_adjudicate, claims_readjudicate
from claims.services.examiner import SeenClaim, claims_approve
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

    again = claims_readjudicate(claim_keys=[(claim.id, claim.service_date_from)], actor=examiner)

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
    plan, member = _enrolled_member()
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
    plan, member = _enrolled_member(plan_type="HM")
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
            claims_adjudicate(claim_keys=[(claim.id, claim.service_date_from)], trigger=f"thread {claim.id}")
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
    plan, member = _enrolled_member(deductible=Decimal("200.00"), copay=Decimal("0.00"))
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
    plan, member = _enrolled_member(plan_type="HM")
    _waiting_claim(plan, member)
    outside = ClaimFactory(status=ClaimStatus.VALIDATED, member=member, health_plan=plan)
    ClaimLineFactory(claim=outside, line_number=1)
    claims_adjudicate()

    body = client.get("/metrics").content.decode()

    assert 'claims_adjudicated_claims_total{outcome="approved"} 1.0' in body
    assert 'claims_adjudicated_claims_total{outcome="denied"} 1.0' in body
    assert 'claims_adjudication_edits_total{edit="out_of_network_denied"} 1.0' in body
    assert "claims_processing_ms_p95 " in body


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_split_members_and_decide_each_claim_once() -> None:
    # Six members with two claims each against a $200 deductible; two worker processes, members split by id at
    # the median of the waiting claims' member ids.
    plan = HealthPlanFactory(deductible=Decimal("200.00"), copay=Decimal("0.00"))
    claims = []
    for _ in range(6):
        member = MemberFactory()
        Enrollment.objects.create(member=member, plan=plan, effective_date=dt.date(2020, 1, 1))
        claims += [_waiting_claim(plan, member, "400.00"), _waiting_claim(plan, member, "400.00")]

    shards = adjudication.shards_for(2)
    # percentile_disc(0.5) of 12 member ids, two a member: the 6th, the third member's id.
    cut = sorted(c.member_id for c in claims)[5]
    assert [(s.member_after, s.member_through) for s in shards] == [(None, cut), (cut, None)]

    result = adjudication.claims_adjudicate_parallel(workers=2, trigger="parallel test")

    assert result.claims == 12 and result.decided == {"approved": 12}
    runs = AdjudicationRun.objects.filter(trigger__startswith="parallel test").order_by("trigger")
    assert [r.trigger for r in runs] == ["parallel test (shard 1 of 2)", "parallel test (shard 2 of 2)"]
    assert sum(r.claims for r in runs) == 12
    # Each member's claims all went to the shard of its id's range: three members up to the cut, three above.
    by_run = {r.trigger.split("shard ")[1][0]: r.claims for r in runs}
    assert by_run == {"1": 6, "2": 6}
    # Decided once each (one validated -> approved row a claim), and each member spent exactly the deductible.
    moves = ClaimStatusHistory.objects.filter(from_status="validated", to_status="approved")
    assert sorted(moves.values_list("claim_id", flat=True)) == sorted(c.id for c in claims)
    for accumulator in MemberAccumulator.objects.filter(plan=plan):
        spent = ClaimAdjustment.objects.filter(carc="1", claim__member_id=accumulator.member_id).aggregate(
            s=Sum("amount")
        )["s"]
        assert spent == accumulator.deductible_met == Decimal("200.00")


@pytest.mark.django_db
def test_shards_cover_every_member_id_once_and_one_shard_when_nothing_waits() -> None:
    assert adjudication.shards_for(3) == [adjudication.Shard(0, 1)]
    plan = HealthPlanFactory()
    members = [MemberFactory() for _ in range(3)]
    for member in members:
        _waiting_claim(plan, member, "10.00")
    ids = sorted(m.pk for m in members)

    shards = adjudication.shards_for(3)

    # Cuts at the 1/3 and 2/3 quantiles of the three waiting claims' member ids: one member a shard.
    assert [(s.index, s.of, s.member_after, s.member_through) for s in shards] == [
        (0, 3, None, ids[0]),
        (1, 3, ids[0], ids[1]),
        (2, 3, ids[1], None),
    ]


@pytest.mark.django_db
def test_replacing_an_approved_claim_gives_its_deductible_back_and_the_replacement_spends_it_afresh() -> None:
    plan, member = _enrolled_member(deductible=Decimal("200.00"), copay=Decimal("0.00"))
    original = _waiting_claim(plan, member, "400.00")
    claims_adjudicate()
    accumulator = MemberAccumulator.objects.get(member=member, plan=plan)
    assert accumulator.deductible_met == Decimal("175.02")  # 99215 allowed, all of it deductible

    replacement = _replacement_of(original, "400.00")
    claims_adjudicate()

    original.refresh_from_db()
    replacement.refresh_from_db()
    accumulator.refresh_from_db()
    assert (original.status, replacement.status) == ("replaced", "approved")
    assert replacement.edits == ["replacement"]
    spent = ClaimAdjustment.objects.filter(claim_id=replacement.id, carc="1").aggregate(s=Sum("amount"))["s"]
    # Given back first, then spent again: 175.02 once, not 200 (the cap) with only 24.98 on the replacement.
    assert spent == accumulator.deductible_met == Decimal("175.02")
    assert ClaimStatusHistory.objects.filter(
        claim_id=original.id, from_status="approved", to_status="replaced", source="adjudication"
    ).exists()


def _enrolled_member(**plan_terms: Any) -> tuple[HealthPlan, Any]:
    """A plan with ``plan_terms`` and a member enrolled in it since 2020."""
    plan = HealthPlanFactory(**plan_terms)
    member = MemberFactory()
    Enrollment.objects.create(member=member, plan=plan, effective_date=dt.date(2020, 1, 1))
    return plan, member


def _replacement_of(original: Claim, charge: str) -> Claim:
    replacement = ClaimFactory(
        status=ClaimStatus.VALIDATED,
        member=original.member,
        health_plan=original.health_plan,
        billing_provider=original.billing_provider,
        total_charge=Decimal(charge),
        frequency_code="7",
        related_claim=original,
        related_service_date_from=original.service_date_from,
        relation="replaces",
    )
    ClaimLineFactory(claim=replacement, line_number=1, procedure_code="99215", charge=Decimal(charge))
    return replacement


@pytest.mark.django_db
def test_a_replacement_pended_for_review_then_approved_is_priced_not_pended_for_its_own_ended_original() -> (
    None
):
    plan, member = _enrolled_member(
        deductible=Decimal("0.00"), copay=Decimal("0.00"), review_threshold=Decimal("1000.00")
    )
    original = _waiting_claim(plan, member, "400.00")
    claims_adjudicate()
    replacement = _replacement_of(original, "1500.00")  # above the review threshold: pended for review
    claims_adjudicate()
    original.refresh_from_db()
    replacement.refresh_from_db()
    assert (original.status, replacement.status) == ("replaced", "pended")
    assert replacement.pend_reason != "original"

    examiner = User.objects.create_user("examiner-r")
    seen = SeenClaim(replacement.pk, replacement.service_date_from, ClaimStatus.PENDED)
    claims_approve(claims=[seen], actor=examiner)

    replacement.refresh_from_db()
    assert replacement.status == "approved"
    assert replacement.edits == ["replacement"]
    assert replacement.total_paid > 0
    _balanced(replacement)


@pytest.mark.django_db
def test_a_replacement_whose_original_another_claim_ended_stays_pended_on_approval() -> None:
    plan, member = _enrolled_member(deductible=Decimal("0.00"), copay=Decimal("0.00"))
    original = _waiting_claim(plan, member, "400.00")
    claims_adjudicate()
    _replacement_of(original, "300.00")
    claims_adjudicate()
    late = _replacement_of(original, "350.00")  # names the same original, now replaced by the first
    claims_adjudicate()
    late.refresh_from_db()
    assert (late.status, late.pend_reason) == ("pended", "original")

    examiner = User.objects.create_user("examiner-l")
    claims_approve(claims=[SeenClaim(late.pk, late.service_date_from, ClaimStatus.PENDED)], actor=examiner)
    late.refresh_from_db()
    assert (late.status, late.pend_reason) == ("pended", "original")


@pytest.mark.django_db
def test_a_line_without_its_own_place_of_service_is_priced_at_the_claims_facility_place() -> None:
    plan, member = _enrolled_member(
        deductible=Decimal("0.00"), copay=Decimal("0.00"), coinsurance_rate=Decimal("0.00")
    )
    office = _waiting_claim(plan, member, "400.00")
    inpatient = _waiting_claim(plan, member, "400.00")
    Claim.objects.filter(pk=office.pk).update(place_of_service="11")
    Claim.objects.filter(pk=inpatient.pk).update(place_of_service="21")
    assert set(
        ClaimLine.objects.filter(claim_id__in=[office.pk, inpatient.pk]).values_list(
            "place_of_service", flat=True
        )
    ) == {""}
    claims_adjudicate()
    office.refresh_from_db()
    inpatient.refresh_from_db()
    facility = fee_schedule_amount(
        procedure_code="99215",
        units=Decimal(1),
        place_of_service="21",
        conversion_factor=plan.conversion_factor,
    )
    assert office.allowed == Decimal("175.02")  # 99215 at the non-facility rate
    assert inpatient.allowed == facility == Decimal("140.02")  # x 0.80 in an inpatient hospital (POS 21)
