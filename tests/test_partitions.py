"""Monthly partitions of the claim tables: date-filtered queries prune, stray dates land in DEFAULT, and
``ensure_month_partitions`` creates missing months once.

Partition pruning happens at plan time here (Django binds parameters on the client, so the planner sees the
dates), which is what the plan's relation names show (PostgreSQL docs, "Partition Pruning", 5.11.4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, connection

from claims.models import Claim, ClaimLine
from members.models import HealthPlan, Member
from ops.platform.partitioning import existing_partitions, partitions_ensure
from ops.tests.helpers import add_claims as ops_add_claims
from ops.tests.helpers import parties as make_parties
from providers.models import Provider
from tests import pgplan
from tests.owner import owner_execute


@pytest.fixture
def parties(db: None) -> tuple[HealthPlan, Member, Provider]:
    return make_parties()


def add_claims(parties: tuple[HealthPlan, Member, Provider], days: list[dt.date]) -> list[Claim]:
    """One claim with two lines per day in ``days``."""
    return ops_add_claims(days, with_parties=parties)


def month_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month.year}_{month.month:02d}"


def stored_in(table: str, row_id: int) -> str:
    """The partition that holds row ``row_id`` of ``table`` (from the row's tableoid)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [row_id])
        (name,) = cursor.fetchone()
    return str(name)


def count_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        (count,) = cursor.fetchone()
    return int(count)


@pytest.fixture
def months() -> list[dt.date]:
    """This month and the two before it: all inside the range the test database is partitioned for."""
    first = dt.datetime.now(dt.UTC).date().replace(day=1)
    return [first - relativedelta(months=k) for k in (2, 1, 0)]


def test_month_filter_scans_only_that_months_partition(
    parties: tuple[HealthPlan, Member, Provider], months: list[dt.date]
) -> None:
    add_claims(parties, [m + dt.timedelta(days=d) for m in months for d in (0, 9, 20)])
    month = months[1]
    qs = Claim.objects.filter(service_date_from__gte=month, service_date_from__lt=months[2])

    plan = pgplan.explain_queryset(qs)

    assert pgplan.relation_names(plan) == {month_name("claims_claim", month)}
    assert sorted(c.service_date_from.day for c in qs) == [1, 10, 21]


def test_join_of_claims_and_lines_filtered_by_month_prunes_both(
    parties: tuple[HealthPlan, Member, Provider], months: list[dt.date]
) -> None:
    add_claims(parties, [m + dt.timedelta(days=d) for m in months for d in (0, 9)])
    month, next_month = months[1], months[2]
    # Both sides carry the key and both are filtered: PostgreSQL does not carry a range condition across the
    # join's equality, so a filter on the claim alone would leave every claimline partition in the plan.
    qs = (
        ClaimLine.objects.filter(
            service_date_from__gte=month,
            service_date_from__lt=next_month,
            claim__service_date_from__gte=month,
            claim__service_date_from__lt=next_month,
        )
        .values_list("claim__claim_number", "line_number")
        .order_by("claim__claim_number", "line_number")
    )

    plan = pgplan.explain_queryset(qs)

    assert pgplan.relation_names(plan) == {
        month_name("claims_claim", month),
        month_name("claims_claimline", month),
    }
    assert list(qs) == [("CLM2", 1), ("CLM2", 2), ("CLM3", 1), ("CLM3", 2)]


def test_claim_and_lines_are_stored_in_their_service_months_partition(
    parties: tuple[HealthPlan, Member, Provider], months: list[dt.date]
) -> None:
    (claim,) = add_claims(parties, [months[0] + dt.timedelta(days=14)])
    line = claim.lines.order_by("line_number").first()
    assert line is not None

    assert stored_in("claims_claim", claim.pk) == month_name("claims_claim", months[0])
    assert stored_in("claims_claimline", line.pk) == month_name("claims_claimline", months[0])


def test_rows_dated_outside_every_monthly_partition_land_in_default(
    parties: tuple[HealthPlan, Member, Provider], months: list[dt.date]
) -> None:
    old, in_range = add_claims(parties, [dt.date(2001, 1, 15), months[0]])

    assert count_rows("claims_claim_default") == 1
    assert count_rows("claims_claimline_default") == 2
    assert stored_in("claims_claim", old.pk) == "claims_claim_default"
    assert stored_in("claims_claim", in_range.pk) == month_name("claims_claim", months[0])
    # Still one table to the application.
    assert Claim.objects.filter(service_date_from__year=2001).count() == 1


# ensure_month_partitions does DDL in transactions of its own, so these tests commit (transaction=True) and
# drop what they create; pytest-django empties the tables afterwards.
OLD_MONTH = dt.date(2005, 3, 1)
CREATED = ["claims_claim_p2005_03", "claims_claimline_p2005_03"]


def drop_partitions(month: str) -> None:
    """Detach and drop one month's partitions of both tables (``month`` as in the names: ``p2005_03``).

    A partition of claims_claim cannot simply be dropped: the composite foreign keys into claims_claim
    (claimline, status history, related claim) depend on it. DETACH checks no row still references it.
    """
    for parent in ("claims_claimline", "claims_claim"):
        name = f"{parent}_{month}"
        if name in existing_partitions(parent):
            owner_execute(f"ALTER TABLE {parent} DETACH PARTITION {name}")  # the owner's (tests/owner.py)
        owner_execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def no_old_partitions(transactional_db: None) -> Iterator[None]:
    drop_partitions("p2005_03")  # left behind by an interrupted run on a reused test database
    yield
    drop_partitions("p2005_03")


def partition_bounds(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s", [name])
        (bounds,) = cursor.fetchone()
    return str(bounds)


@pytest.mark.django_db(transaction=True)
def test_ensure_month_partitions_creates_the_month_once_for_both_tables(
    no_old_partitions: None, parties: tuple[HealthPlan, Member, Provider]
) -> None:
    created = partitions_ensure(group="claims", months=[dt.date(2005, 3, 17), dt.date(2005, 3, 2)])

    assert created == CREATED
    assert "claims_claim_p2005_03" in existing_partitions("claims_claim")
    assert "claims_claimline_p2005_03" in existing_partitions("claims_claimline")
    for name in CREATED:
        assert partition_bounds(name) == "FOR VALUES FROM ('2005-03-01') TO ('2005-04-01')"
    # Rows of that month now go to the new partition, not DEFAULT.
    (claim,) = add_claims(parties, [dt.date(2005, 3, 31)])
    assert stored_in("claims_claim", claim.pk) == "claims_claim_p2005_03"

    assert partitions_ensure(group="claims", months=[OLD_MONTH]) == []
    assert partitions_ensure(group="claims", months=[]) == []


@pytest.mark.django_db(transaction=True)
def test_ensure_month_partitions_refuses_a_month_default_already_holds(
    no_old_partitions: None, parties: tuple[HealthPlan, Member, Provider]
) -> None:
    (claim,) = add_claims(parties, [dt.date(2005, 3, 9)])
    assert stored_in("claims_claim", claim.pk) == "claims_claim_default"

    with pytest.raises(DatabaseError, match="default partition"):
        partitions_ensure(group="claims", months=[OLD_MONTH])

    assert "claims_claim_p2005_03" not in existing_partitions("claims_claim")
    assert "claims_claimline_p2005_03" not in existing_partitions("claims_claimline")


def test_registry_has_each_partitioned_table_once_by_group_referencing_table_first() -> None:
    from ops.platform.partitioning import registry

    groups = {g.name: [(t.table, t.key, t.timestamptz) for t in g.tables] for g in registry()}

    # Proxies of a partitioned model (the examiners' work queue) read its table: they are not listed again.
    assert groups == {
        "audit": [("ops_auditevent", "occurred_at", True)],
        "claims": [
            ("claims_claimline", "service_date_from", False),
            ("claims_claim", "service_date_from", False),
        ],
    }
