"""Partition maintenance on real PostgreSQL: rollover, DEFAULT repair, retention by archive-then-drop.

DDL commits, so these tests are transactional and drop every partition they create: other tests count the
claim partitions (tests/test_smoke.py expects 29).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, connection, transaction

from claims.models import Claim, ClaimLine, ClaimMonthCount, ClaimNumber
from claims.services.lifecycle import month_counts_loaded, months_holding
from ops import maintenance, partitions
from ops.models import PartitionArchive, TaskOutcome, TaskRun
from ops.partitions import Policy
from ops.platform.partitioning import existing_partitions, partitions_ensure
from ops.tests.helpers import add_claims, count_rows, drop_month, line_of

KEEP_ALL = Policy(months_ahead=3, retention_months={"claims": 1200, "audit": 1200})
REPAIR_MONTH = "p2001_01"
RETIRE_MONTH = "p2005_03"


@pytest.fixture
def clean_months(transactional_db: None) -> Iterator[None]:
    for suffix in (REPAIR_MONTH, RETIRE_MONTH):
        drop_month(suffix)
    yield
    for suffix in (REPAIR_MONTH, RETIRE_MONTH):
        drop_month(suffix)


def future_suffix(months: int) -> str:
    month = dt.datetime.now(dt.UTC).date().replace(day=1) + relativedelta(months=months)
    return f"p{month.year}_{month.month:02d}"


@pytest.mark.django_db(transaction=True)
def test_rollover_recreates_the_third_future_month_once(clean_months: None) -> None:
    suffix = future_suffix(3)
    drop_month(suffix, ("claims_claimline", "claims_claim", "ops_auditevent"))
    try:
        first = maintenance.partitions_maintain(policy=KEEP_ALL)
        second = maintenance.partitions_maintain(policy=KEEP_ALL)
    finally:
        # Never leave the month missing.
        partitions_ensure(group="claims", months=[dt.date(int(suffix[1:5]), int(suffix[6:8]), 1)])

    assert first.outcome == second.outcome == TaskOutcome.SUCCESS
    # Groups in name order; within a group the referenced table first (ops.platform.partitioning).
    assert first.details["created"] == [
        f"ops_auditevent_{suffix}",
        f"claims_claim_{suffix}",
        f"claims_claimline_{suffix}",
    ]
    assert second.details["created"] == []
    assert second.details["plan"] == ["nothing to do"]
    for parent in ("claims_claim", "claims_claimline", "ops_auditevent"):
        assert f"{parent}_{suffix}" in existing_partitions(parent)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s",
            [f"ops_auditevent_{suffix}"],
        )
        (bounds,) = cursor.fetchone()
    assert "00:00:00+00" in bounds  # midnight UTC, never the hour of the run (STACK.md bug 2)
    assert TaskRun.objects.filter(job="partitions_maintain", outcome=TaskOutcome.SUCCESS).count() == 2


@pytest.mark.django_db(transaction=True)
def test_rows_in_default_are_flagged_and_moved_into_their_own_month_with_the_fk_intact(
    clean_months: None,
) -> None:
    claims = add_claims([dt.date(2001, 1, 15), dt.date(2001, 1, 20)])
    assert count_rows("claims_claim_default") == 2

    dry = maintenance.partitions_maintain(dry_run=True, groups=["claims"], policy=KEEP_ALL)
    run = maintenance.partitions_maintain(groups=["claims"], policy=KEEP_ALL)

    assert dry.details["plan"] == [
        "ALERT rows in DEFAULT for 2001-01 (claims_claimline: 4, claims_claim: 2): move them into new 2001-01 "
        "partitions"
    ]
    assert count_rows("claims_claim_p2001_01") == 2  # the dry run changed nothing, the run did
    assert run.outcome == TaskOutcome.SUCCESS, run.error
    assert run.details["repaired"] == {"claims_claimline_p2001_01": 4, "claims_claim_p2001_01": 2}
    assert run.rows_affected == 6
    assert count_rows("claims_claim_default") == count_rows("claims_claimline_default") == 0
    assert count_rows("claims_claimline_p2001_01") == 4
    assert "claims_claim_p2001_01" in existing_partitions("claims_claim")
    assert (
        ClaimLine.objects.filter(claim=claims[0], service_date_from=claims[0].service_date_from).count() == 2
    )
    # The composite FK holds on the new partition: an orphan line of that month is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        line_of(999_999_999, dt.date(2001, 1, 3)).save()
        connection.check_constraints()
    # Run again: nothing left to repair.
    assert maintenance.partitions_maintain(groups=["claims"], policy=KEEP_ALL).details["repaired"] == {}


def _policy_retiring_2005() -> Policy:
    return Policy(months_ahead=3, retention_months={"claims": 36, "audit": 1200})


@pytest.mark.django_db(transaction=True)
def test_retention_archives_verifies_then_drops_the_month(clean_months: None, tmp_path: Path) -> None:
    partitions_ensure(group="claims", months=[dt.date(2005, 3, 1)])
    add_claims([dt.date(2005, 3, 5), dt.date(2005, 3, 6), dt.date(2005, 3, 7)])

    run = maintenance.partitions_maintain(
        groups=["claims"], policy=_policy_retiring_2005(), archive_dir=tmp_path
    )

    assert run.outcome == TaskOutcome.SUCCESS, run.error
    archives = {a.partition_table: a for a in PartitionArchive.objects.all()}
    assert {"claims_claim_p2005_03", "claims_claimline_p2005_03"} <= set(archives)
    # Any other month this old is one an earlier transactional test made and emptied (its DDL commits): retired
    # too, with nothing in it.
    assert all(a.rows == 0 for name, a in archives.items() if not name.endswith("_p2005_03"))
    for name, rows in (("claims_claim_p2005_03", 3), ("claims_claimline_p2005_03", 6)):
        archive = archives[name]
        path = Path(archive.path)
        assert path.is_file() and path.parent.parent == tmp_path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == archive.sha256
        assert archive.bytes == path.stat().st_size
        with gzip.open(path, "rt") as f:
            assert sum(1 for _ in f) == rows == archive.rows
        assert archive.range_from == "2005-03-01" and archive.range_to == "2005-04-01"
    assert "claims_claim_p2005_03" not in existing_partitions("claims_claim")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass('claims_claim_p2005_03'), to_regclass('claims_claimline_p2005_03')"
        )
        assert cursor.fetchone() == (None, None)


@pytest.mark.django_db(transaction=True)
def test_retention_forgets_the_months_claim_numbers_and_counts(clean_months: None, tmp_path: Path) -> None:
    # The lookup rows and month counts of a retired month would otherwise be found by the admin search and by
    # duplicate matching at ingest, pointing at claims no longer on file.
    partitions_ensure(group="claims", months=[dt.date(2005, 3, 1), dt.date(2005, 4, 1)])
    claims = add_claims([dt.date(2005, 3, 5), dt.date(2005, 3, 31), dt.date(2005, 4, 1)])
    ClaimNumber.objects.bulk_create(
        ClaimNumber(
            claim_id=c.pk,
            service_date_from=c.service_date_from,
            billing_provider_id=c.billing_provider_id,
            claim_number=c.claim_number,
        )
        for c in claims
    )
    month_counts_loaded(Counter(("received", c.service_date_from) for c in claims))
    # Keep April 2005 onwards: the cutoff is this month minus the retention (ops.partitions.plan).
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    keep = (this_month.year - 2005) * 12 + this_month.month - 4
    policy = Policy(months_ahead=3, retention_months={"claims": keep, "audit": 1200})
    try:
        run = maintenance.partitions_maintain(groups=["claims"], policy=policy, archive_dir=tmp_path)

        assert run.outcome == TaskOutcome.SUCCESS, run.error
        assert "claims_claim_p2005_03" not in existing_partitions("claims_claim")
        assert "claims_claim_p2005_04" in existing_partitions("claims_claim")
        # March's two numbers and its counts are gone; April's stay.
        assert sorted(ClaimNumber.objects.values_list("claim_id", flat=True)) == [claims[2].pk]
        assert months_holding(["received"]) == [dt.date(2005, 4, 1)]
    finally:
        drop_month("p2005_04")
        ClaimNumber.objects.all().delete()
        ClaimMonthCount.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_retention_drops_a_month_whose_claims_reference_each_other(
    clean_months: None, tmp_path: Path
) -> None:
    # A duplicate (or replacement) of a claim of the same month: the self-referencing foreign key made DETACH
    # fail on the demo's sample months before the partition was emptied first.
    partitions_ensure(group="claims", months=[dt.date(2005, 3, 1)])
    original, duplicate = add_claims([dt.date(2005, 3, 5), dt.date(2005, 3, 6)])
    Claim.objects.filter(pk=duplicate.pk).update(
        status="denied",
        denial_reason_code="18",
        related_claim_id=original.pk,
        related_service_date_from=original.service_date_from,
        relation="duplicate_of",
    )

    run = maintenance.partitions_maintain(
        groups=["claims"], policy=_policy_retiring_2005(), archive_dir=tmp_path
    )

    assert run.outcome == TaskOutcome.SUCCESS, run.error
    assert {a.partition_table: a.rows for a in PartitionArchive.objects.all()} == {
        "claims_claim_p2005_03": 2,
        "claims_claimline_p2005_03": 4,
    }
    assert "claims_claim_p2005_03" not in existing_partitions("claims_claim")


@pytest.mark.django_db(transaction=True)
def test_a_failing_archive_leaves_the_partition_in_place(clean_months: None, tmp_path: Path) -> None:
    partitions_ensure(group="claims", months=[dt.date(2005, 3, 1)])
    add_claims([dt.date(2005, 3, 5)])
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")

    run = maintenance.partitions_maintain(
        groups=["claims"], policy=_policy_retiring_2005(), archive_dir=not_a_dir
    )

    assert run.outcome == TaskOutcome.FAILED
    assert "archive, verify, then detach and drop 2005-03" in run.error
    assert "claims_claim_p2005_03" in existing_partitions("claims_claim")
    assert "claims_claimline_p2005_03" in existing_partitions("claims_claimline")
    assert count_rows("claims_claim_p2005_03") == 1 and count_rows("claims_claimline_p2005_03") == 2
    assert PartitionArchive.objects.count() == 0


def test_partition_names_follow_the_claims_convention() -> None:
    assert partitions.partition_name("claims_claim", dt.date(2026, 2, 1)) == "claims_claim_p2026_02"
