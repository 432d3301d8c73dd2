"""Issue 11: ingest's duplicate lookup (``claims_on_file``, run for every 5,000-claim chunk) prunes to the months of
the claims it finds when PostgreSQL plans it, whatever the number of month partitions.

Its join from the lookup table's (id, month) keys alone is pruned only at run time, after every month partition
of claims and lines was planned and locked (250 partitions, 2,502 locks per chunk at 120 months:
bench/results/2026-12-01-partitions-120.md row 47); the months as a literal list beside it prune at plan time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from claims.models import Claim
from claims.services.ingest import batch_ingest, claims_on_file
from tests.pruning import EXTRA_MONTHS, ONE_MONTH_LOCKS, locks_taken, planned_statements

# Committed (the load is not part of the test's transaction), so the locks counted are the lookup's own.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("many_months")]


def test_claims_on_file_is_planned_over_the_months_of_the_claims_it_finds(
    shared_x12: Path, many_months: int
) -> None:
    assert many_months >= EXTRA_MONTHS + 20
    assert not batch_ingest(path=shared_x12 / "837P/imsweb/x12_many_claims.txt").rejected
    keys = set(Claim.objects.values_list("billing_provider_id", "claim_number"))
    months = {d.replace(day=1) for d in Claim.objects.values_list("service_date_from", flat=True)}
    assert keys and len(months) <= 2

    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        found = claims_on_file(keys)

    assert {f.id for f in found} == set(Claim.objects.values_list("id", flat=True))
    (statement,) = planned.statements  # the claims and their lines; the lookup table is not partitioned
    # Each month's claims partition and lines partition, nothing else.
    assert statement.partitions == 2 * len(months), str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS * len(months), locks
