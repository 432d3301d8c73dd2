"""Shared fixtures: the test database gets its monthly partitions, and the shared X12 samples are located."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

SHARED_X12 = Path(__file__).resolve().parent.parent / "shared" / "data" / "x12"


# Months before this one that the tests' data uses (factories, index and demo-data tests): two years.
TEST_MONTHS_BACK = 24


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Migrations create the partitioned parents and DEFAULT partitions only (STACK.md); add the months.

    By production's own paths: the rollover plan that the daily job applies (this month and the months ahead
    of every partition group), then the creator that ingest calls for the past months of the tests' claims.
    """
    from claims.models import Claim
    from ops import partitions
    from ops.platform.partitioning import partitions_ensure

    with django_db_blocker.unblock():
        today = dt.datetime.now(dt.UTC).date()
        rollover = partitions.plan(
            partitions.snapshot(), today=today, policy=partitions.Policy.from_settings()
        )
        partitions.apply(partitions.PartitionPlan(tuple(rollover.of_kind("create"))))
        this_month = today.replace(day=1)
        past = [this_month - relativedelta(months=k) for k in range(1, TEST_MONTHS_BACK + 1)]
        partitions_ensure(group=Claim.partition_group, months=past)


@pytest.fixture(scope="session")
def shared_x12() -> Path:
    if not SHARED_X12.is_dir():
        pytest.fail(f"shared X12 samples not found at {SHARED_X12}: tests read them from ../shared")
    return SHARED_X12
