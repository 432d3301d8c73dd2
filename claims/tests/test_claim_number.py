"""Searches by claim number go through the lookup table (``ClaimNumber``) and then read only the claims' months.

Each test asserts on the plan: which month partitions of claims_claim / claims_claimline it reads. A claim number
searched on claims_claim itself is probed in every month partition (bench/results/2026-12-01-partitions-120.md).
"""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.db.models import Q

from claims.models import Claim, ClaimLine, ClaimNumber
from claims.selectors import claim_keys_for_number, claim_line_search_q, claim_search, keys_q
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from ops.platform.partitioning import partition_name
from tests import pgplan

pytestmark = pytest.mark.django_db

CLAIMS = Claim._meta.db_table
LINES = ClaimLine._meta.db_table


def _months_read(queryset: object, parent: str) -> set[str]:
    plan = pgplan.explain_queryset(queryset)  # type: ignore[arg-type]
    return {name for name in pgplan.relation_names(plan) if name.startswith(f"{parent}_")}


@pytest.fixture
def two_months() -> tuple[Claim, Claim]:
    """A claim this month and one with the same number last month (another billing provider)."""
    today = dt.date.today()
    this = ClaimFactory(claim_number="ACME-77", service_date_from=today)
    earlier = ClaimFactory(claim_number="ACME-77", service_date_from=today - relativedelta(months=1))
    ClaimLineFactory(claim=this, procedure_code="99213")
    ClaimLineFactory(claim=earlier, procedure_code="99214")
    return this, earlier


def test_the_factory_writes_the_lookup_row_as_ingest_does(two_months: tuple[Claim, Claim]) -> None:
    this, _ = two_months
    row = ClaimNumber.objects.get(claim_id=this.pk)
    assert (row.service_date_from, row.billing_provider_id, row.claim_number) == (
        this.service_date_from,
        this.billing_provider_id,
        "ACME-77",
    )


def test_claim_number_is_matched_in_any_case_through_the_lookup(two_months: tuple[Claim, Claim]) -> None:
    this, earlier = two_months
    assert sorted(claim_keys_for_number(" acme-77 ")) == sorted(
        [(this.pk, this.service_date_from), (earlier.pk, earlier.service_date_from)]
    )
    assert claim_keys_for_number("ACME-78") == []


def test_claim_search_reads_only_the_months_of_the_number(two_months: tuple[Claim, Claim]) -> None:
    this, earlier = two_months
    found = Claim.objects.filter(claim_search("acme-77").q)

    assert set(found) == {this, earlier}
    assert _months_read(found, CLAIMS) == {
        partition_name(CLAIMS, this.service_date_from.replace(day=1)),
        partition_name(CLAIMS, earlier.service_date_from.replace(day=1)),
    }


def test_claim_number_searched_on_the_claims_table_reads_every_month(two_months: tuple[Claim, Claim]) -> None:
    # The negative control: what the search did before the lookup table.
    months = _months_read(Claim.objects.filter(claim_number__iexact="acme-77"), CLAIMS)
    assert len(months) > 2


def test_line_search_by_claim_number_reads_its_months_only(two_months: tuple[Claim, Claim]) -> None:
    this, earlier = two_months
    lines = ClaimLine.objects.filter(claim_line_search_q("ACME-77"))

    assert {line.claim_id for line in lines} == {this.pk, earlier.pk}
    assert _months_read(lines, LINES) == {
        partition_name(LINES, this.service_date_from.replace(day=1)),
        partition_name(LINES, earlier.service_date_from.replace(day=1)),
    }


def test_line_search_by_procedure_code_when_no_claim_has_that_number(two_months: tuple[Claim, Claim]) -> None:
    this, _ = two_months
    assert [line.claim_id for line in ClaimLine.objects.filter(claim_line_search_q("99213"))] == [this.pk]


def test_no_keys_is_a_condition_nothing_meets(two_months: tuple[Claim, Claim]) -> None:
    assert list(Claim.objects.filter(keys_q([]))) == []
    assert list(Claim.objects.filter(keys_q([]) | Q(claim_number="ACME-77")).order_by("id")) == sorted(
        two_months, key=lambda c: c.pk
    )
