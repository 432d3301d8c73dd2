"""Issue 11: every admin page on the claims tables prunes to a few month partitions, whatever the number of months.

Each test runs a page through Django's test client with ``EXTRA_MONTHS`` empty month partitions added to the
tests' own (tests/pruning.py), and asserts on what PostgreSQL planned for the statements the page really ran
(EXPLAIN of each, with its parameters) and on the locks the page took. A page that cannot prune is planned over
every partition (~77 here) and locks each with its indexes (~1,200 relations); the negative controls show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from claims.models import Claim, ClaimNumber
from claims.tests.factories import ClaimFactory, ClaimLineFactory
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


# Relations of one month's claims and lines partitions with their indexes, with room to spare: a page that reads
# one month locks about 25 of them; one that cannot prune, every month's (over 1,000 here).
ONE_MONTH_LOCKS = 40


def test_claim_page_reads_the_claim_from_its_months_partition_only(
    admin_client: Client, many_months: int
) -> None:
    assert many_months >= EXTRA_MONTHS + 20
    claim = ClaimFactory()
    ClaimLineFactory(claim=claim, line_number=1)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["original"].pk == claim.pk
    on_claims = planned.matching(r'FROM "claims_claim"')
    assert on_claims, str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] - locks[0] <= ONE_MONTH_LOCKS, locks


def test_negative_control_a_claim_without_its_lookup_row_is_read_from_every_partition(
    admin_client: Client, many_months: int
) -> None:
    claim = ClaimFactory()
    ClaimNumber.objects.filter(claim_id=claim.pk).delete()
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert response.status_code == 200  # the fallback still finds it, by id alone
    assert planned.most >= many_months, str(planned)
    assert locks[1] - locks[0] > 10 * ONE_MONTH_LOCKS, locks


def test_work_queue_claim_page_reads_one_partition(admin_client: Client) -> None:
    claim = ClaimFactory(status="pended")
    with planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_workqueueclaim_change", args=[claim.pk]))
    assert response.status_code == 200
    assert planned.most == 1, str(planned)


# --- lists by status: bounded by the months holding that status ------------------------------------------------


def test_work_queue_lists_pended_claims_from_their_months_partitions_only(admin_client: Client) -> None:
    pended = [ClaimFactory(status="pended"), ClaimFactory(status="pended")]
    ClaimFactory(status="approved")
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_workqueueclaim_changelist"))
    assert response.status_code == 200
    assert {c.pk for c in response.context["cl"].result_list} == {c.pk for c in pended}
    assert planned.matching(r'FROM "claims_claim"'), str(planned)
    assert planned.most == 1, str(planned)
    assert locks[1] - locks[0] <= ONE_MONTH_LOCKS, locks


def test_status_filter_reads_the_months_holding_that_status_only(admin_client: Client) -> None:
    pended = ClaimFactory(status="pended")
    ClaimFactory(status="received")
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_claim_changelist"), {"status__exact": "pended"})
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [pended.pk]
    assert len(planned.matching(r'FROM "claims_claim"')) >= 2, str(planned)  # the capped count and the page
    assert planned.most == 1, str(planned)
    assert locks[1] - locks[0] <= ONE_MONTH_LOCKS, locks


def test_a_status_no_month_holds_lists_nothing_and_reads_no_partition(admin_client: Client) -> None:
    ClaimFactory(status="pended")
    with planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_claim_changelist"), {"status__exact": "voided"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert planned.most == 0, str(planned)


def test_negative_control_the_status_alone_is_planned_over_every_month(many_months: int) -> None:
    with planned_statements() as planned:
        list(Claim.objects.filter(status="pended").order_by("received_at", "id")[:100])
    assert planned.most >= many_months, str(planned)
