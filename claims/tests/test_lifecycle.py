"""The claim-lifecycle writer: allowed moves, compare-and-set, history with source and actor, and two actors
deciding the same claim at once (with a negative control that removes the compare-and-set)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from claims import lifecycle
from claims.lifecycle import ClaimStatus, IllegalTransition, StatusSource
from claims.models import Claim, ClaimStatusHistory
from claims.services import lifecycle as writer
from claims.services.lifecycle import StatusChange, StatusConflict, claim_status_change, claims_status_change
from claims.tests.factories import ClaimFactory


def _change(claim: Claim, old: str, new: str, **kw: object) -> StatusChange:
    return StatusChange(claim.id, claim.service_date_from, old, new, **kw)  # type: ignore[arg-type]


def test_every_status_has_a_rule_and_final_statuses_go_nowhere() -> None:
    assert set(lifecycle.TRANSITIONS) == {lifecycle.NEW, *ClaimStatus.values}
    assert lifecycle.TRANSITIONS[ClaimStatus.REPLACED] == frozenset()
    assert lifecycle.TRANSITIONS[ClaimStatus.VOIDED] == frozenset()
    assert lifecycle.initial_transitions(ClaimStatus.DENIED) == (
        ("", ClaimStatus.RECEIVED),
        (ClaimStatus.RECEIVED, ClaimStatus.DENIED),
    )
    with pytest.raises(IllegalTransition):
        lifecycle.check_transition(ClaimStatus.VOIDED, ClaimStatus.APPROVED)


@pytest.mark.django_db
def test_decision_moves_status_and_writes_history_with_source_actor_and_note() -> None:
    examiner = User.objects.create_user("examiner")
    claim = ClaimFactory(status=ClaimStatus.VALIDATED, total_charge=Decimal("200.00"))
    at = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)

    moved = claims_status_change(
        changes=[_change(claim, ClaimStatus.VALIDATED, ClaimStatus.APPROVED, total_paid=Decimal("160.00"))],
        source=StatusSource.EXAMINER,
        actor=examiner,
        at=at,
    )

    claim.refresh_from_db()
    assert moved == 1
    assert (claim.status, claim.total_paid, claim.processed_at) == (
        ClaimStatus.APPROVED,
        Decimal("160.00"),
        at,
    )
    history = ClaimStatusHistory.objects.get(claim_id=claim.id)
    assert (
        history.from_status,
        history.to_status,
        history.source,
        history.changed_by_id,
        history.changed_at,
    ) == (
        ClaimStatus.VALIDATED,
        ClaimStatus.APPROVED,
        "examiner",
        examiner.pk,
        at,
    )


@pytest.mark.django_db
def test_stale_status_changes_nothing_for_any_claim_of_the_call() -> None:
    fresh = ClaimFactory(status=ClaimStatus.VALIDATED)
    moved_meanwhile = ClaimFactory(status=ClaimStatus.PENDED)

    with pytest.raises(StatusConflict) as raised:
        claims_status_change(
            changes=[
                _change(fresh, ClaimStatus.VALIDATED, ClaimStatus.DENIED, denial_reason_code="50"),
                _change(moved_meanwhile, ClaimStatus.VALIDATED, ClaimStatus.DENIED, denial_reason_code="50"),
            ],
            source=StatusSource.ADJUDICATION,
        )

    assert raised.value.claim_ids == [moved_meanwhile.id]
    assert list(Claim.objects.order_by("id").values_list("status", "denial_reason_code")) == [
        (ClaimStatus.VALIDATED, ""),
        (ClaimStatus.PENDED, ""),
    ]
    assert not ClaimStatusHistory.objects.exists()


@pytest.mark.django_db
def test_forbidden_move_is_refused_before_anything_is_written() -> None:
    claim = ClaimFactory(status=ClaimStatus.VOIDED)

    with pytest.raises(IllegalTransition):
        claim_status_change(
            claim_id=claim.id,
            service_date_from=claim.service_date_from,
            from_status=ClaimStatus.VOIDED,
            to_status=ClaimStatus.APPROVED,
            source=StatusSource.EXAMINER,
        )

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VOIDED
    assert not ClaimStatusHistory.objects.exists()


def _two_examiners_decide(claim: Claim) -> list[str]:
    """Two sessions read the claim as validated, then both decide it. Returns each one's outcome."""
    read_both = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def examiner(decision: str) -> None:
        try:
            with transaction.atomic():
                status = Claim.objects.values_list("status", flat=True).get(pk=claim.pk)
                read_both.wait()
                carc = "50" if decision == ClaimStatus.DENIED else None
                claims_status_change(
                    changes=[_change(claim, status, decision, denial_reason_code=carc)],
                    source=StatusSource.EXAMINER,
                )
            outcomes.append(decision)
        except StatusConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=examiner, args=(d,)) for d in (ClaimStatus.APPROVED, ClaimStatus.DENIED)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_examiners_deciding_one_claim_at_once_one_wins_the_other_is_told() -> None:
    claim = ClaimFactory(status=ClaimStatus.VALIDATED)

    outcomes = _two_examiners_decide(claim)

    assert sorted(outcomes) in (["approved", "conflict"], ["conflict", "denied"])
    claim.refresh_from_db()
    assert claim.status == next(o for o in outcomes if o != "conflict")
    assert ClaimStatusHistory.objects.filter(claim_id=claim.id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_negative_control_without_compare_and_set_both_examiners_win(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same race with the status condition removed from the UPDATE: the second decision silently overwrites
    # the first and the claim carries two decisions, which is what the test above would then catch.
    monkeypatch.setattr(writer, "_COMPARE", "")
    claim = ClaimFactory(status=ClaimStatus.VALIDATED)

    outcomes = _two_examiners_decide(claim)

    assert sorted(outcomes) == ["approved", "denied"]
    assert ClaimStatusHistory.objects.filter(claim_id=claim.id).count() == 2
