"""Test data for the analytics pages: demo 837P files ingested, some claims adjudicated, views refreshed.

Shared by analytics/tests/test_pages.py (test client) and tests/test_analytics_browser.py (a real browser).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import F
from django.utils import timezone

from analytics.models import Icd10Code
from analytics.services.refresh import views_refresh
from analytics.services.summaries import summaries_rebuild
from claims.models import Claim, ClaimStatus, StatusSource
from claims.services.ingest import batch_ingest
from claims.services.lifecycle import StatusChange, claims_status_change
from ops.synthetic.x12_files import generate_demo_files

# A shared sample the ingest rejects (no place of service), so the failed-claims page has a rejected file.
REJECTED_SAMPLE = Path("837P/imsweb/x12_missing_elements.txt")
DENIAL_CARC = "50"  # not deemed a medical necessity


def ensure_reference_data() -> Group:
    """The ICD-10-CM code set and the "analysts" group, put back when missing; returns the group.

    Both come from data migrations (0002, 0003), and a transactional test elsewhere in the run empties every
    table when it ends (pytest-django flushes), so the tests restore them with the migrations' own code.
    """
    if not Icd10Code.objects.exists():
        load_code_set = importlib.import_module("analytics.migrations.0002_load_icd10_code_set").load
        connection.ensure_connection()
        load_code_set(apps, SimpleNamespace(connection=connection))
    importlib.import_module("analytics.migrations.0003_analysts_group").create(apps, None)
    return Group.objects.get(name="analysts")


@dataclass(frozen=True)
class Adjudicated:
    approved: int
    denied: int
    pended: int
    revisits: int  # pended -> validated: a step back in the lifecycle
    self_loops: int  # pended -> pended


def adjudicate(*, now: dt.datetime) -> Adjudicated:
    """Give the ingested claims outcomes, as adjudication would: every 3rd approved (paid 80%), every 7th
    denied (CARC 50), every 11th pended; a few pended claims go back to validated, one is pended twice.

    Ingest leaves claims "received" and no service adjudicates yet; the pages need every outcome.
    """
    rows = list(
        Claim.objects.filter(status=ClaimStatus.RECEIVED)
        .order_by("id")
        .values_list("id", "service_date_from", "total_charge")
    )
    groups: dict[str, list[tuple[int, dt.date, Decimal]]] = {"approved": [], "denied": [], "pended": []}
    for index, row in enumerate(rows):
        if index % 3 == 0:
            groups["approved"].append(row)
        elif index % 7 == 1:
            groups["denied"].append(row)
        elif index % 11 == 2:
            groups["pended"].append(row)

    def move(claims: list[tuple[int, dt.date, Decimal]], before: str, after: str) -> None:
        # Through the claim-lifecycle writer, as adjudication will: compare-and-set and a history row each.
        claims_status_change(
            changes=[
                StatusChange(
                    claim_id,
                    sdf,
                    before,
                    after,
                    denial_reason_code=DENIAL_CARC if after == ClaimStatus.DENIED else None,
                    total_paid=(charge * Decimal("0.80")).quantize(Decimal("0.01"))
                    if after == ClaimStatus.APPROVED
                    else None,
                )
                for claim_id, sdf, charge in claims
            ],
            source=StatusSource.ADJUDICATION,
            at=now,
        )

    for status, claims in groups.items():
        move(claims, ClaimStatus.RECEIVED, status)
    back = groups["pended"][:2]
    move(back, ClaimStatus.PENDED, ClaimStatus.VALIDATED)
    move(back, ClaimStatus.VALIDATED, ClaimStatus.PENDED)
    move(groups["pended"][-1:], ClaimStatus.PENDED, ClaimStatus.PENDED)
    # The processing time the pages measure: three hours after receipt (the writer stamps ``now``).
    decided = [c[0] for claims in groups.values() for c in claims]
    Claim.objects.filter(id__in=decided).update(processed_at=F("received_at") + dt.timedelta(hours=3))
    return Adjudicated(
        approved=len(groups["approved"]),
        denied=len(groups["denied"]),
        pended=len(groups["pended"]),
        revisits=len(back),
        self_loops=1,
    )


_FILES: dict[dt.date, list[Path]] = {}


def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two demo 837P files of 150 claims dated up to today, written once per test session.

    Writing them costs about 4 s (the generator builds its universe and loads the ICD-10-CM code list); the page
    tests and the browser tests ingest the same files.
    """
    today = timezone.localdate()
    if today not in _FILES:
        out_dir = tmp_path_factory.mktemp("analytics837")
        generated = generate_demo_files(out_dir, files=2, claims_per_file=150, seed=17, as_of=today)
        _FILES[today] = [g.path for g in generated]
    return _FILES[today]


def load_claims(*, files: list[Path], shared_x12: Path) -> Adjudicated:
    """Ingest the demo files and one rejected sample, adjudicate, refresh the views and summaries."""
    for path in files:
        batch_ingest(path=path)
    rejected = batch_ingest(path=shared_x12 / REJECTED_SAMPLE)
    assert rejected.batch.status == "rejected", rejected.batch.status
    outcome = adjudicate(now=timezone.now())
    views_refresh(trigger="test")
    summaries_rebuild(trigger="test")
    return outcome


def make_user(django_user_model: Any, username: str, *, group: Group | None = None) -> Any:
    """A staff user (the admin login admits staff only) with no model permissions, in ``group`` if given."""
    user = django_user_model.objects.create_user(username, password="pages-test-pw", is_staff=True)
    if group is not None:
        user.groups.add(group)
    return user
