"""Issue 11: the claim services' statements prune to the claims' month partitions, whatever the number of months.

Each test calls a service as the admin does, with ``EXTRA_MONTHS`` empty month partitions added to the tests' own
(tests/pruning.py), and asserts on what PostgreSQL planned for every statement the service ran on the claims and
lines (EXPLAIN of each, with its parameters) and on the relation locks it took. A statement that cannot prune is
planned over every partition (~77 here); the negative controls run such statements and show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from claims.lifecycle import ClaimStatus
from claims.models import Claim
from claims.services.adjudication import claims_readjudicate
from claims.services.examiner import SeenClaim, claims_approve, claims_assign
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from members.tests.factories import EnrollmentFactory, HealthPlanFactory
from tests.pruning import (
    EXTRA_MONTHS,
    locks_taken,
    many_months_added,
    planned_statements,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("many_months")]


@pytest.fixture(scope="module")
def many_months(django_db_setup: None, django_db_blocker: Any) -> Iterator[int]:
    """Claim partitions in the database, ``EXTRA_MONTHS`` empty ones added for this module (tests/pruning.py)."""
    yield from many_months_added(django_db_blocker)


# Relations of one month's claims and lines partitions with their indexes, with room to spare (about 25 are
# locked by a statement reading one month); a statement that cannot prune locks over 1,000 here.
ONE_MONTH_LOCKS = 40


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
    assert locks[1] - locks[0] <= ONE_MONTH_LOCKS, locks
    assert set(Claim.objects.values_list("assignee_id", flat=True)) == {examiner.pk}


def test_approve_takes_and_prices_the_claims_in_their_months_partitions_only(examiner: User) -> None:
    claim = _pended()
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        result = claims_approve(claims=[_seen(claim)], actor=examiner)
    assert result.claims == 1
    takes = planned.matching(r"FOR UPDATE SKIP LOCKED")
    assert len(takes) == 1, str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] - locks[0] <= ONE_MONTH_LOCKS, locks


def test_readjudicate_reads_and_takes_the_claims_in_their_months_partitions_only(examiner: User) -> None:
    claim = _pended()
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        result = claims_readjudicate(claim_keys=[(claim.pk, claim.service_date_from)], actor=examiner)
    assert result.claims == 1
    assert planned.matching(r"FOR UPDATE SKIP LOCKED"), str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] - locks[0] <= ONE_MONTH_LOCKS, locks
