"""A claim line references its claim in the same month partition (migration ops 0010), at plain-table cost.

PostgreSQL 15 checks a foreign key into a partitioned table with a generic plan over every partition: each checked
row locks every month's partition of the claims table. The month keys make the check one probe of one partition.
The lock count shows it, and the negative control puts the parent-level key back and watches the count grow with
the months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection, transaction

from claims.models import Claim, ClaimLine
from ops.platform.partitioning import existing_partitions, partitions_drop_empty, partitions_ensure
from ops.tests.helpers import add_claims, line_of
from tests.owner import owner_execute

PARENT_KEY = (
    "ALTER TABLE claims_claimline ADD CONSTRAINT claimline_claim_fk FOREIGN KEY (claim_id, service_date_from) "
    "REFERENCES claims_claim (id, service_date_from) DEFERRABLE INITIALLY DEFERRED"
)


def _line_keys() -> dict[str, str]:
    """Each foreign key on a claim-line table or partition -> the table it references."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conparentid = 0
              AND (c.conrelid = 'claims_claimline'::regclass
                   OR c.conrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'claims_claimline'::regclass))
            """
        )
        return dict(cursor.fetchall())


def _claim_partition_locks() -> int:
    """Claim-table partitions this backend holds a lock on (the partitions, not their indexes)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_locks l JOIN pg_inherits i ON i.inhrelid = l.relation
            WHERE l.pid = pg_backend_pid() AND i.inhparent = 'claims_claim'::regclass
            """
        )
        return int(cursor.fetchone()[0])


def _locks_of_checked_lines(claim: Claim) -> int:
    """Insert eight lines of ``claim`` and check their keys at once; the claim partitions locked by then.

    Eight, not one: PostgreSQL plans a key check's query for its first five runs with the values (pruned), then
    switches to a generic plan, which locks every partition of a partitioned table it reads on each run.
    """
    with transaction.atomic():
        ClaimLine.objects.bulk_create(line_of(claim.id, claim.service_date_from, n) for n in range(1, 9))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        locked = _claim_partition_locks()
        transaction.set_rollback(True)
    return locked


@pytest.fixture
def claim(transactional_db: None) -> Iterator[Claim]:
    (made,) = add_claims([dt.date.today().replace(day=1) - dt.timedelta(days=40)], lines=0)
    yield made


@pytest.mark.django_db(transaction=True)
def test_every_line_partition_references_the_claim_partition_of_its_month() -> None:
    keys = _line_keys()
    lines = existing_partitions("claims_claimline")
    assert len(lines) >= 20
    assert keys == {name: name.replace("claims_claimline", "claims_claim") for name in lines}


@pytest.mark.django_db(transaction=True)
def test_a_month_made_later_gets_its_key_and_refuses_an_orphan_line() -> None:
    month = dt.date(1998, 2, 1)
    created = partitions_ensure(group="claims", months=[month])
    try:
        assert created == ["claims_claim_p1998_02", "claims_claimline_p1998_02"]
        assert _line_keys()["claims_claimline_p1998_02"] == "claims_claim_p1998_02"
        with pytest.raises(IntegrityError), transaction.atomic():
            line_of(999_999_999, dt.date(1998, 2, 3)).save()
            connection.check_constraints()
    finally:
        assert partitions_drop_empty(group="claims", names=created) == [
            "claims_claimline_p1998_02",
            "claims_claim_p1998_02",
        ]


def test_checking_lines_locks_only_their_months_claim_partition(claim: Claim) -> None:
    assert len(existing_partitions("claims_claim")) >= 20
    assert _locks_of_checked_lines(claim) == 1


def test_negative_control_a_key_on_the_parent_locks_every_month(claim: Claim) -> None:
    months = len(existing_partitions("claims_claim"))
    owner_execute(PARENT_KEY)
    try:
        assert _locks_of_checked_lines(claim) == months
    finally:
        owner_execute("ALTER TABLE claims_claimline DROP CONSTRAINT claimline_claim_fk")
