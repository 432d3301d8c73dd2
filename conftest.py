"""Shared fixtures: the test database is created and migrated by the owner role and used by the app role, as in
production (README "Database roles"); it gets its monthly partitions; the shared X12 samples are located."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import connections
from django.test import TransactionTestCase
from django.test.testcases import _DatabaseFailure

SHARED_X12 = Path(__file__).resolve().parent.parent / "shared" / "data" / "x12"


# Months before this one that the tests' data uses (factories, index and demo-data tests): two years.
TEST_MONTHS_BACK = 24


# The app role's user and password from DATABASE_URL, kept while the default connection is the owner's.
_APP_ROLE: dict[str, str] = {}


def _connect_default_as(role: dict[str, str]) -> None:
    """Point the default connection at ``role`` (USER, PASSWORD), closing what is open."""
    for connection in connections.all():
        connection.close()
    connections["default"].settings_dict.update(role)


def _owner_role() -> dict[str, str]:
    owner = connections["owner"].settings_dict
    return {"USER": owner["USER"], "PASSWORD": owner["PASSWORD"]}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """pytest-django creates the test database (from the template, settings DATABASE_TEMPLATE) and migrates it
    through the default connection: as the owner role, which may create databases and owns the schema."""
    default = connections["default"].settings_dict
    _APP_ROLE.update(USER=default["USER"], PASSWORD=default["PASSWORD"])
    _connect_default_as(_owner_role())


def _flush_as_owner(self: TransactionTestCase) -> None:
    """``TransactionTestCase._fixture_teardown`` with the flush (TRUNCATE of every table) run by the owner: the
    app role may not TRUNCATE, the audit trail least of all."""
    # pytest-django forbids the aliases a test did not ask for (Django's _DatabaseFailure wrappers): the owner's
    # connection is let through for the flush only.
    owner = connections["owner"]
    blocked = {name: method for name, method in vars(owner).items() if isinstance(method, _DatabaseFailure)}
    for name, method in blocked.items():
        setattr(owner, name, method.wrapped)
    test_class = type(self)
    allowed = test_class.databases
    test_class.databases = {*allowed, "owner"}  # Django's ensure_connection patch reads the class's list
    try:
        _flush(self)
    finally:
        test_class.databases = allowed
        for name, method in blocked.items():
            setattr(owner, name, method)


def _flush(self: TransactionTestCase) -> None:
    for alias in self._databases_names(include_mirrors=False):
        call_command(
            "flush",
            verbosity=0,
            interactive=False,
            database="owner" if alias == "default" else alias,
            reset_sequences=False,
            allow_cascade=self.available_apps is not None,
            inhibit_post_migrate=self.available_apps is not None
            or (self.serialized_rollback and hasattr(connections[alias], "_test_serialized_contents")),
        )


TransactionTestCase._fixture_teardown = _flush_as_owner  # type: ignore[method-assign]


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
        # Created and migrated by the owner (django_db_modify_db_settings): from here on the tests are the app.
        _connect_default_as(_APP_ROLE)
        today = dt.datetime.now(dt.UTC).date()
        rollover = partitions.plan(
            partitions.snapshot(), today=today, policy=partitions.Policy.from_settings()
        )
        partitions.apply(partitions.PartitionPlan(tuple(rollover.of_kind("create"))))
        this_month = today.replace(day=1)
        past = [this_month - relativedelta(months=k) for k in range(1, TEST_MONTHS_BACK + 1)]
        partitions_ensure(group=Claim.partition_group, months=past)
    yield
    with django_db_blocker.unblock():
        _connect_default_as(_owner_role())  # the plugin drops the test database next: the owner's


@pytest.fixture(scope="session")
def shared_x12() -> Path:
    if not SHARED_X12.is_dir():
        pytest.fail(f"shared X12 samples not found at {SHARED_X12}: tests read them from ../shared")
    return SHARED_X12


@pytest.fixture(scope="module")
def many_months(django_db_setup: None, django_db_blocker: Any) -> Iterator[int]:
    """Claim partitions in the database, ``EXTRA_MONTHS`` empty ones added for the module that asks
    (tests/pruning.py): a statement that cannot prune is then planned over every one of them."""
    from tests.pruning import many_months_added

    yield from many_months_added(django_db_blocker)
