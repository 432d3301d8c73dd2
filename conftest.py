"""Shared fixtures: the test database gets its monthly partitions, and the shared X12 samples are located."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

SHARED_X12 = Path(__file__).resolve().parent.parent / "shared" / "data" / "x12"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Migrations create the partitioned parents and DEFAULT partitions only (STACK.md); add the months."""
    with django_db_blocker.unblock():
        call_command("pgpartition", "--yes", verbosity=0)


@pytest.fixture(scope="session")
def shared_x12() -> Path:
    if not SHARED_X12.is_dir():
        pytest.fail(f"shared X12 samples not found at {SHARED_X12}: tests read them from ../shared")
    return SHARED_X12
