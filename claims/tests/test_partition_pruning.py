"""Issue 11: the claim services' statements prune to the claims' month partitions, whatever the number of months.

Each test calls a service as the admin does, with ``EXTRA_MONTHS`` empty month partitions added to the tests' own
(tests/pruning.py), and asserts on what PostgreSQL planned for every statement the service ran on the claims and
lines (EXPLAIN of each, with its parameters) and on the relation locks it took. A statement that cannot prune is
planned over every partition (~77 here); the negative controls run such statements and show it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from claims.lifecycle import ClaimStatus, StatusSource
from claims.models import Claim
from claims.services.adjudication import claims_adjudicate, claims_readjudicate, shards_for
from claims.services.examiner import SeenClaim, claims_approve, claims_assign
from claims.services.lifecycle import STATE_UNREMITTED, StatusChange, claims_status_change, months_holding
from claims.services.remittance import remittances_generate
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from members.tests.factories import EnrollmentFactory, HealthPlanFactory
from providers.tests.factories import ProviderFactory
from tests.pruning import (
    EXTRA_MONTHS,
    ONE_MONTH_LOCKS,
    locks_taken,
    planned_statements,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("many_months")]


@pytest.fixture
def examiner(django_user_model: Any) -> User:
    return django_user_model.objects.create_user("examiner-prune")


def _pended(**fields: Any) -> Claim:
    plan = fields.pop("health_plan", None) or HealthPlanFactory(deductible=Decimal("0.00"))
    claim = ClaimFactory(status=ClaimStatus.PENDED, health_plan=plan, total_charge=Decimal("90.00"), **fields)
    ClaimLineFactory(claim=claim, line_number=1, procedure_code="99213", charge=Decimal("90.00"))
    EnrollmentFactory(member=claim.member, plan=plan, effective_date=dt.date(2020, 1, 1))
    return claim


def _seen(claim: Claim) -> SeenClaim:
    return SeenClaim(claim.pk, claim.service_date_from, claim.status)


def test_negative_control_by_id_alone_the_statement_is_planned_over_every_month(many_months: int) -> None:
    assert many_months >= EXTRA_MONTHS + 20
    claim = _pended()
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        with connection.cursor() as cursor:  # the assign as it was (bench rows 36 and 38)
            cursor.execute(
                "UPDATE claims_claim SET assignee_id = NULL WHERE id = ANY(%s) AND status = %s RETURNING id",
                [[claim.pk], ClaimStatus.PENDED],
            )
    assert planned.most >= many_months, str(planned)
    assert locks[1] - locks[0] > 10 * ONE_MONTH_LOCKS, locks


def test_assign_updates_the_claims_in_their_months_partitions_only(examiner: User) -> None:
    claims = [_pended(), _pended()]
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        assert claims_assign(claims=[_seen(c) for c in claims], user=examiner) == 2
    assert len(planned.matching(r"UPDATE claims_claim")) == 1, str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS, locks
    assert set(Claim.objects.values_list("assignee_id", flat=True)) == {examiner.pk}


def test_approve_takes_and_prices_the_claims_in_their_months_partitions_only(examiner: User) -> None:
    claim = _pended()
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        result = claims_approve(claims=[_seen(claim)], actor=examiner)
    assert result.claims == 1
    takes = planned.matching(r"FOR UPDATE SKIP LOCKED")
    assert len(takes) == 1, str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS, locks


def test_readjudicate_reads_and_takes_the_claims_in_their_months_partitions_only(examiner: User) -> None:
    claim = _pended()
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        result = claims_readjudicate(claim_keys=[(claim.pk, claim.service_date_from)], actor=examiner)
    assert result.claims == 1
    assert planned.matching(r"FOR UPDATE SKIP LOCKED"), str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS, locks


# --- the months holding a status bound the statements that read by status ---------------------------------------


def test_adjudication_without_ids_takes_from_the_months_holding_validated_claims_only() -> None:
    claim = _pended()
    claims_status_change(
        changes=[StatusChange(claim.pk, claim.service_date_from, ClaimStatus.PENDED, ClaimStatus.VALIDATED)],
        source=StatusSource.EXAMINER,
    )
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        assert len(shards_for(2)) in (1, 2)
        result = claims_adjudicate(trigger="pruning test")
    assert result.claims == 1
    assert len(planned.matching(r"FOR UPDATE SKIP LOCKED")) == 1, str(planned)
    assert planned.matching(r"percentile_disc"), str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS, locks


def test_negative_control_the_take_by_status_alone_is_planned_over_every_month(many_months: int) -> None:
    with planned_statements() as planned, connection.cursor() as cursor:  # the take as it was (bench row 31)
        cursor.execute(
            "SELECT id FROM claims_claim WHERE status = %s ORDER BY received_at, id LIMIT 10 FOR UPDATE SKIP LOCKED",
            [ClaimStatus.VALIDATED],
        )
    assert planned.most >= many_months, str(planned)


def test_835_cycle_reads_the_months_holding_unremitted_claims_only(examiner: User) -> None:
    claim = _pended(billing_provider=ProviderFactory(tax_id="123456789"))
    claims_approve(claims=[_seen(claim)], actor=examiner)
    # By id and month: by id alone the read would lock every partition before the measured block.
    decided = Claim.objects.get(pk=claim.pk, service_date_from=claim.service_date_from)
    assert decided.status in (ClaimStatus.APPROVED, ClaimStatus.DENIED)
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        run = remittances_generate()
    assert (run.outcome, run.claims, run.error) == ("success", 1, "")
    assert Claim.objects.get(pk=claim.pk, service_date_from=claim.service_date_from).remittance_id is not None
    for statement in (
        r"SELECT DISTINCT",
        r"FOR UPDATE SKIP LOCKED",
        r"FROM claims_claimline l",
        r"SET remittance_id",
    ):
        assert planned.matching(statement), (statement, str(planned))
    assert planned.most == 1, str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS, locks
    # Remitted: no month holds an unremitted claim any more, and the next cycle reads no claims partition.
    assert months_holding([STATE_UNREMITTED]) == []
    with planned_statements() as again:
        assert remittances_generate().claims == 0
    assert again.most == 0, str(again)


def test_nothing_waiting_reads_no_claims_partition() -> None:
    # An empty list on the partition key does not prune: PostgreSQL plans and locks every partition, then finds
    # the condition false (an empty plan). So with no month holding validated claims nothing is read at all.
    ClaimFactory(status=ClaimStatus.PENDED)
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        assert claims_adjudicate(trigger="pruning test").claims == 0
        assert len(shards_for(2)) == 1
    assert planned.statements == [], str(planned)
    assert locks[1] <= 1, locks  # the set-up's insert into this month's partition
