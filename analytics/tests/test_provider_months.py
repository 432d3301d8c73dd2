"""The month-grain provider summary (``ProviderMonthlyTotals``): equal to its day rows and to the claims after
incremental batches (a late claim in an old month, a replacement that moves a claim, a void), and read by the
provider page through its covering index."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from analytics import selectors, sql
from analytics.models import ProviderMonthlyTotals
from analytics.services.summaries import (
    SUMMARIES,
    batch_touched,
    full_select,
    month_days,
    summaries_rebuild,
    summaries_refresh_batch,
    summaries_refresh_days,
)
from claims.models import Claim, ClaimRelation, ClaimStatus, IngestBatch
from claims.services.ingest import batch_ingest
from ops.synthetic.x12_files import generate_demo_files
from providers.models import Provider

pytestmark = pytest.mark.django_db

MONTHLY = next(s for s in SUMMARIES if s.table == "analytics_providermonthlytotals")
COLUMNS = ", ".join(MONTHLY.columns)
DAYS_SUMMED = """
SELECT date_trunc('month', day)::date AS month, billing_provider_id, sum(claims), sum(approved), sum(denied),
       sum(billed), sum(paid), sum(lines), sum(rvus)
FROM analytics_providerdailytotals
GROUP BY 1, 2
ORDER BY 1, 2
"""
# The reference computed from the claims, not from the day rows: PROVIDER_DAILY over every day, summed by month.
FROM_CLAIMS = f"""
SELECT date_trunc('month', day)::date AS month, billing_provider_id, sum(claims), sum(approved), sum(denied),
       sum(billed), sum(paid), sum(lines), sum(rvus)
FROM ({sql.PROVIDER_DAILY.format(day_filter=sql.ALL_DAYS)}) days
GROUP BY 1, 2
ORDER BY 1, 2
"""


def _fetch(query: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def _month_rows() -> list[tuple[Any, ...]]:
    return _fetch(f"SELECT {COLUMNS} FROM {MONTHLY.table} ORDER BY month, billing_provider_id")


def _assert_months_equal_days_and_claims() -> None:
    rows = _month_rows()
    assert rows
    # The full-refresh SELECT, the day rows summed by month, and the same sums straight from the claims.
    assert rows == _fetch(f"{full_select(MONTHLY)} ORDER BY 1, 2")
    assert rows == _fetch(DAYS_SUMMED)
    assert rows == _fetch(FROM_CLAIMS)


def _copy(claim: Claim, batch: IngestBatch, number: str, **changes: Any) -> Claim:
    """A new claim like ``claim`` in ``batch`` (its amounts, member, plan), with ``changes``."""
    claim.pk = None
    claim.claim_number = number
    claim.batch = batch
    for field, value in changes.items():
        setattr(claim, field, value)
    claim.save(force_insert=True)
    return claim


@pytest.fixture
def first_batch(tmp_path: Path) -> IngestBatch:
    (demo,) = generate_demo_files(tmp_path, files=1, claims_per_file=80, seed=11, as_of=dt.date(2026, 11, 1))
    return batch_ingest(path=demo.path).batch


def test_month_rows_follow_a_late_claim_a_replacement_and_a_void(first_batch: IngestBatch) -> None:
    summaries_rebuild(trigger="test")
    _assert_months_equal_days_and_claims()
    claims = list(Claim.objects.filter(batch=first_batch).order_by("service_date_from", "id"))
    oldest, replaced, voided = claims[0], claims[len(claims) // 2], claims[-1]
    newest_month = claims[-1].service_date_from.replace(day=1)
    assert oldest.service_date_from < newest_month  # the late claim is months older than the latest one
    other_provider = next(
        c.billing_provider_id for c in claims if c.billing_provider_id != replaced.billing_provider_id
    )
    before = {(m, p): claims_ for m, p, claims_, *_ in _month_rows()}
    old_pair = (oldest.service_date_from.replace(day=1), oldest.billing_provider_id)
    replaced_pair = (replaced.service_date_from.replace(day=1), replaced.billing_provider_id)

    batch = IngestBatch.objects.create(file_name="late.837", sha256="1" * 64, size_bytes=0)
    # Late: a claim for the oldest month on file. Replacement: the corrected claim is another provider's and
    # a month later; the original leaves its (month, provider). Void: the voided claim leaves its group.
    _copy(Claim.objects.get(pk=oldest.pk), batch, "LATE-1")
    _copy(
        Claim.objects.get(pk=replaced.pk),
        batch,
        "REPL-1",
        billing_provider_id=other_provider,
        service_date_from=replaced.service_date_from + dt.timedelta(days=31),
        service_date_to=replaced.service_date_to + dt.timedelta(days=31),
        related_claim_id=replaced.id,
        related_service_date_from=replaced.service_date_from,
        relation=ClaimRelation.REPLACES,
    )
    _copy(
        Claim.objects.get(pk=voided.pk),
        batch,
        "VOID-1",
        total_charge=0,
        related_claim_id=voided.id,
        related_service_date_from=voided.service_date_from,
        relation=ClaimRelation.VOIDS,
    )
    for original, status in ((replaced, ClaimStatus.REPLACED), (voided, ClaimStatus.VOIDED)):
        Claim.objects.filter(pk=original.pk, service_date_from=original.service_date_from).update(
            status=status
        )

    logs = summaries_refresh_batch(batch_id=batch.id, trigger="test")

    _assert_months_equal_days_and_claims()
    touched = batch_touched(batch_id=batch.id)
    months, ids = touched.pairs("billing_provider_id", grain="month")
    assert logs[-1].view == MONTHLY.table
    pairs = set(zip(months, ids, strict=True))
    after = {(m, p): claims_ for m, p, claims_, *_ in _month_rows()}
    assert logs[-1].rows == len(pairs & after.keys())  # the touched pairs that still have claims
    assert after[old_pair] == before[old_pair] + 1
    if replaced_pair != old_pair:
        assert after.get(replaced_pair, 0) == before[replaced_pair] - 1
    # Only the pairs the batch touched changed.
    changed = {pair for pair in before.keys() | after.keys() if before.get(pair) != after.get(pair)}
    assert changed and changed <= pairs


def test_recomputing_days_recomputes_their_whole_months(first_batch: IngestBatch) -> None:
    summaries_rebuild(trigger="test")
    month = (
        Claim.objects.filter(batch=first_batch).earliest("service_date_from").service_date_from.replace(day=1)
    )
    rows = ProviderMonthlyTotals.objects.filter(month=month)
    kept = set(rows.values_list("billing_provider_id", flat=True))
    # Stale figures, a lost row and a row for a provider with no claims that month: all put right.
    rows.update(claims=0)
    rows.filter(billing_provider_id=min(kept)).delete()
    idle = Provider.objects.exclude(id__in=kept).values_list("id", flat=True).first()
    assert idle is not None
    ProviderMonthlyTotals.objects.create(
        month=month,
        billing_provider_id=idle,
        claims=1,
        approved=0,
        denied=0,
        billed=1,
        paid=0,
        lines=1,
        rvus=0,
    )

    summaries_refresh_days(days=[month + dt.timedelta(days=3)], trigger="test")

    _assert_months_equal_days_and_claims()


def test_month_days_are_every_day_of_the_months() -> None:
    months, days = month_days([dt.date(2026, 2, 14), dt.date(2026, 2, 3), dt.date(2025, 12, 31)])

    assert months == [dt.date(2025, 12, 1), dt.date(2026, 2, 1)]
    assert len(days) == 31 + 28 and days[0] == dt.date(2025, 12, 1) and days[-1] == dt.date(2026, 2, 28)


def _scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_scans(child))
    return nodes


def test_a_months_providers_are_an_index_only_scan_of_the_month_index(first_batch: IngestBatch) -> None:
    summaries_rebuild(trigger="test")
    month = ProviderMonthlyTotals.objects.latest("month").month
    query = selectors.provider_performance(month=month, sort="-paid")[:10]
    with connection.cursor() as cursor:
        # The test table is tiny, where a sequential scan is cheapest: take that choice away (and bitmap
        # scans), so the plan says whether the index can serve the query at all, and cover it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        try:
            (plan,) = json.loads(query.explain(format="json"))
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_bitmapscan")

    (scan,) = [n for n in _scans(plan["Plan"]) if n.get("Relation Name") == MONTHLY.table]
    assert scan["Node Type"] == "Index Only Scan"
    assert scan["Index Name"] == "providermonthlytotals_uniq"
    assert "month" in scan["Index Cond"]
