"""Test helpers for the maintenance tests: claims in a given month, partition look-ups, clean-up of DDL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from claims.models import Claim, ClaimLine
from members.models import HealthPlan, Member
from ops.platform.partitioning import existing_partitions
from providers.models import Provider
from tests.owner import owner_execute


def parties() -> tuple[HealthPlan, Member, Provider]:
    plan = HealthPlan.objects.create(name="Plan", payer_id="PAYER1")
    member = Member.objects.create(member_number="M1", subscriber_identifier="S1", last_name="DOE")
    provider = Provider.objects.create(npi="1234567893", organization_name="CLINIC")
    return plan, member, provider


def add_claims(
    days: list[dt.date], lines: int = 2, *, with_parties: tuple[HealthPlan, Member, Provider] | None = None
) -> list[Claim]:
    """One claim with ``lines`` lines per day in ``days``; parties made anew unless given."""
    plan, member, provider = with_parties or parties()
    claims = Claim.objects.bulk_create(
        Claim(
            service_date_from=day,
            service_date_to=day,
            claim_number=f"CLM{i}",
            member=member,
            health_plan=plan,
            billing_provider=provider,
            place_of_service="11",
            received_at=dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC),
            total_charge=Decimal("100.00"),
        )
        for i, day in enumerate(days)
    )
    ClaimLine.objects.bulk_create(
        line_of(claim.id, claim.service_date_from, n) for claim in claims for n in range(1, lines + 1)
    )
    return claims


def line_of(claim_id: int, day: dt.date, number: int = 1) -> ClaimLine:
    """An unsaved $50.00, one-unit 99213 line of claim ``claim_id`` (which need not exist) served on ``day``."""
    return ClaimLine(
        claim_id=claim_id,
        service_date_from=day,
        line_number=number,
        procedure_code="99213",
        charge=Decimal("50.00"),
        units=Decimal("1"),
        service_date=day,
        service_date_to=day,
    )


def count_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return int(cursor.fetchone()[0])


def drop_month(suffix: str, parents: tuple[str, ...] = ("claims_claimline", "claims_claim")) -> None:
    """Detach and drop one month's partitions (``suffix`` like ``p2005_03``), referencing table first."""
    for parent in parents:  # the owner's (tests/owner.py): the tests are the app role
        name = f"{parent}_{suffix}"
        if name in existing_partitions(parent):
            owner_execute(f'ALTER TABLE "{parent}" DETACH PARTITION "{name}"')
        owner_execute(f'DROP TABLE IF EXISTS "{name}"')
