"""Issue 11: every admin page on the claims tables prunes to a few month partitions, whatever the number of months.

Each test runs a page through Django's test client with ``EXTRA_MONTHS`` empty month partitions added to the
tests' own (tests/pruning.py), and asserts on what PostgreSQL planned for the statements the page really ran
(EXPLAIN of each, with its parameters) and on the locks the page took. A page that cannot prune is planned over
every partition (~77 here) and locks each with its indexes (~1,200 relations); the negative controls show it.
"""

from __future__ import annotations

import pytest
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.test import Client
from django.urls import reverse

from claims.admin import RECENT_MONTHS, recent_months_start
from claims.models import Claim, ClaimNumber
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from members.tests.factories import MemberFactory
from tests.pruning import (
    EXTRA_MONTHS,
    ONE_MONTH_LOCKS,
    locks_taken,
    planned_statements,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("many_months")]


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
    assert locks[1] <= ONE_MONTH_LOCKS, locks


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
    assert locks[1] <= ONE_MONTH_LOCKS, locks


def test_status_filter_reads_the_months_holding_that_status_only(admin_client: Client) -> None:
    pended = ClaimFactory(status="pended")
    ClaimFactory(status="received")
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_claim_changelist"), {"status__exact": "pended"})
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [pended.pk]
    assert len(planned.matching(r'FROM "claims_claim"')) >= 2, str(planned)  # the capped count and the page
    assert planned.most == 1, str(planned)
    assert locks[1] <= ONE_MONTH_LOCKS, locks


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


# --- lists without filters, and searches: the recent months ------------------------------------------------------


def _ahead_and_default() -> int:
    """Partitions a list from a lower month on reads besides its months: the months ahead and DEFAULT."""
    from ops.platform.partitioning import existing_partitions

    this_month = f"claims_claim_p{recent_months_start() + relativedelta(months=RECENT_MONTHS - 1):%Y_%m}"
    names = existing_partitions("claims_claim")
    ahead = sum(1 for name in names if name.startswith("claims_claim_p") and name > this_month)
    return ahead + ("claims_claim_default" in names)


@pytest.mark.parametrize("model", ["claim", "claimline"])
def test_lists_without_filters_read_the_recent_months_only(admin_client: Client, model: str) -> None:
    claim = ClaimFactory()
    ClaimLineFactory(claim=claim, line_number=1)
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(reverse(f"admin:claims_{model}_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    bound = RECENT_MONTHS + _ahead_and_default()
    assert 0 < planned.most <= bound <= 8, str(planned)
    assert locks[1] <= bound * ONE_MONTH_LOCKS, locks
    assert "Last 3 months" in response.content.decode()


@pytest.mark.parametrize("model", ["claim", "claimline"])
def test_negative_control_all_months_reads_every_month(
    admin_client: Client, model: str, many_months: int
) -> None:
    ClaimFactory()
    with planned_statements() as planned:
        response = admin_client.get(reverse(f"admin:claims_{model}_changelist"), {"service_month": "all"})
    assert response.status_code == 200
    assert planned.most >= many_months, str(planned)


def test_member_search_lists_the_recent_months_and_a_claim_number_any_month(admin_client: Client) -> None:
    member = MemberFactory(member_number="M-PRUNE-1")
    old_day = recent_months_start() - relativedelta(months=6)
    recent, old = ClaimFactory(member=member), ClaimFactory(member=member, service_date_from=old_day)
    url = reverse("admin:claims_claim_changelist")
    with planned_statements() as planned:
        response = admin_client.get(url, {"q": "M-PRUNE-1"})
    assert [c.pk for c in response.context["cl"].result_list] == [recent.pk]
    assert "choose a service month" in response.content.decode()
    assert 0 < planned.most <= RECENT_MONTHS + _ahead_and_default(), str(planned)
    # Older claims: asked for explicitly.
    everything = admin_client.get(url, {"q": "M-PRUNE-1", "service_month": "all"})
    assert {c.pk for c in everything.context["cl"].result_list} == {recent.pk, old.pk}
    # A claim number is found whatever its month, read from its own month only.
    with planned_statements() as by_number:
        found = admin_client.get(url, {"q": old.claim_number})
    assert [c.pk for c in found.context["cl"].result_list] == [old.pk]
    assert by_number.most == 1, str(by_number)


def test_work_queue_search_by_member_lists_every_pended_claim_of_the_pended_months(
    admin_client: Client,
) -> None:
    # The queue has no service-month filter to choose older months with: its search is not cut to the recent
    # months, and the months holding pended claims bound it anyway.
    member = MemberFactory(member_number="M-PRUNE-2")
    old = ClaimFactory(
        member=member, status="pended", service_date_from=recent_months_start() - relativedelta(months=6)
    )
    recent = ClaimFactory(member=member, status="pended")
    with transaction.atomic(), locks_taken() as locks, planned_statements() as planned:
        response = admin_client.get(reverse("admin:claims_workqueueclaim_changelist"), {"q": "M-PRUNE-2"})
    assert {c.pk for c in response.context["cl"].result_list} == {old.pk, recent.pk}
    assert planned.most == 2, str(planned)  # the two months holding pended claims
    assert locks[1] <= 2 * ONE_MONTH_LOCKS, locks
