"""Materialized views refresh in the registry's order, under a lock, logged; after a batch only the views the
pages read refresh; incremental summaries equal the full refresh."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from analytics import selectors
from analytics.models import RefreshKind, RefreshLog, RefreshOutcome
from analytics.services.refresh import (
    ALL_VIEWS,
    GROUPS,
    REFRESHED_AFTER_BATCH,
    in_refresh_order,
    view_name,
    views_refresh,
)
from analytics.services.summaries import (
    SUMMARIES,
    Summary,
    batch_touched_days,
    full_select,
    summaries_rebuild,
    summaries_refresh_batch,
    summaries_refresh_days,
)
from analytics.tasks import refresh_after_batch
from claims.models import Claim, ClaimStatus
from claims.services.ingest import batch_ingest
from claims.services.validation import batch_validate
from config.beat import SCHEDULES, sync_schedules
from ops.synthetic.x12_files import generate_demo_files

pytestmark = pytest.mark.django_db


def _rows(table: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cols = ", ".join(columns)
        cursor.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}")
        return cursor.fetchall()


def _reference_rows(summary: Summary) -> list[tuple[object, ...]]:
    """The full-refresh rows of a summary table: its materialized view, or (none) its SELECT over everything."""
    if summary.view is not None:
        return _rows(summary.view, summary.columns)
    with connection.cursor() as cursor:
        cols = ", ".join(summary.columns)
        cursor.execute(f"SELECT {cols} FROM ({full_select(summary)}) s ORDER BY {cols}")
        return cursor.fetchall()


@pytest.fixture
def demo_files(tmp_path: Path) -> list[Path]:
    files = generate_demo_files(tmp_path, files=2, claims_per_file=60, seed=5, as_of=dt.date(2026, 11, 1))
    return [f.path for f in files]


def test_every_view_refreshes_and_is_logged(shared_x12: Path, demo_files: list[Path]) -> None:
    for path in demo_files:
        batch_ingest(path=path)
    batch_ingest(path=shared_x12 / "837P/oopfactory/MissingEntityCode.txt")

    logs = views_refresh(trigger="test")

    assert [log.view for log in logs] == [view_name(v) for v in ALL_VIEWS]
    assert {log.outcome for log in logs} == {RefreshOutcome.SUCCESS}
    assert all(log.duration_ms is not None and log.duration_ms >= 0 for log in logs)
    by_view = {log.view: log.rows for log in logs}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT service_date_from) FROM claims_claim")
        (days,) = cursor.fetchone()
        cursor.execute("SELECT sum(claims), sum(billed) FROM analytics_claims_daily_mv")
        view_claims, view_billed = cursor.fetchone()
        cursor.execute("SELECT count(*), sum(total_charge) FROM claims_claim")
        claims, billed = cursor.fetchone()
    assert by_view["analytics_claims_daily_mv"] == days
    assert (view_claims, view_billed) == (claims, billed)
    assert RefreshLog.objects.filter(trigger="test", kind=RefreshKind.FULL).count() == len(ALL_VIEWS)


def test_views_refresh_in_the_registry_order_whatever_order_they_are_given_in() -> None:
    assert in_refresh_order(reversed(ALL_VIEWS)) == list(ALL_VIEWS)
    assert in_refresh_order([*reversed(REFRESHED_AFTER_BATCH), *REFRESHED_AFTER_BATCH]) == list(
        REFRESHED_AFTER_BATCH
    )
    # The order is GROUPS as written: real-time, day-grain, month-grain.
    assert [view.__name__ for view in ALL_VIEWS] == [
        "ProcessingRealtime",
        "QueueDepthDaily",
        "ClaimsDailySummary",
        "PlanDaily",
        "ProviderDaily",
        "RevenueMonthly",
        "DiagnosisMonthly",
        "FailedClaimsMonthly",
        "StatusFlowMonthly",
    ]


def test_only_registered_views_are_refreshed() -> None:
    with pytest.raises(ValueError, match=r"not analytics views: \['RefreshLog'\]"):
        views_refresh(views=[GROUPS["daily"][0], RefreshLog], trigger="test")  # type: ignore[list-item]

    assert not RefreshLog.objects.filter(trigger="test").exists()  # nothing refreshed, nothing logged


def test_no_view_reads_another_view() -> None:
    """The refresh order is a fixed list, not a dependency sort: true only while no view reads another.

    A view that starts reading one must declare django-pgviews ``dependencies`` and come after it in
    analytics.services.refresh.GROUPS; this test fails first, to say so.
    """
    names = {view_name(view) for view in ALL_VIEWS}
    for view in ALL_VIEWS:
        read = set(re.findall(r"\b(analytics_\w+)", view.sql)) & names
        assert (view.__name__, read) == (view.__name__, set())
        assert (view.__name__, list(getattr(view, "_dependencies", []))) == (view.__name__, [])


def test_a_view_being_refreshed_elsewhere_is_skipped_not_refreshed_twice() -> None:
    view = GROUPS["daily"][0]
    dsn = connection.get_connection_params()
    other = psycopg.connect(
        host=dsn.get("host"),
        port=dsn.get("port"),
        user=dsn.get("user"),
        dbname=dsn["dbname"],
        autocommit=True,
    )
    try:
        key = f"analytics.refresh:{view_name(view)}"
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
        (log,) = views_refresh(views=[view], trigger="test")
        # Released explicitly: after close() the server may hold a session's locks a moment longer.
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
    finally:
        other.close()

    assert log.outcome == RefreshOutcome.SKIPPED
    assert "another refresh" in log.error
    (again,) = views_refresh(views=[view], trigger="test")
    assert again.outcome == RefreshOutcome.SUCCESS


def test_incremental_summaries_equal_the_full_refresh(shared_x12: Path, demo_files: list[Path]) -> None:
    first = batch_ingest(path=demo_files[0])
    summaries_rebuild(trigger="test")
    # A second batch, including late-arriving claims for old service days and a replacement of a claim.
    second = batch_ingest(path=demo_files[1])
    late = batch_ingest(path=shared_x12 / "837P/oopfactory/MissingEntityCode.txt")
    batch_validate(batch_id=first.batch.id, path=demo_files[0])

    # By whole days for one batch, by touched (day, plan) and (day, provider) groups for the others.
    summaries_refresh_days(days=batch_touched_days(batch_id=second.batch.id), trigger="days")
    for batch_id in (late.batch.id, first.batch.id):
        logs = summaries_refresh_batch(batch_id=batch_id, trigger=f"batch {batch_id}")
        assert {log.kind for log in logs} == {RefreshKind.INCREMENTAL}
    views_refresh(views=[v for v in ALL_VIEWS if view_name(v) in {s.view for s in SUMMARIES}], trigger="test")

    for summary in SUMMARIES:
        incremental = _rows(summary.table, summary.columns)
        assert incremental, summary.table
        assert incremental == _reference_rows(summary), summary.table
    # The late batch reached back to 2011: its days are in the summaries.
    days = {row[0] for row in _rows("analytics_claimsdailytotals", ("day",))}
    assert dt.date(2011, 12, 12) in days


def test_incremental_refresh_touches_only_the_batch_groups(demo_files: list[Path]) -> None:
    batch_ingest(path=demo_files[0])
    summaries_rebuild(trigger="test")
    before = {
        r[:2]: r[2] for r in _rows("analytics_providerdailytotals", ("day", "billing_provider_id", "claims"))
    }
    second = batch_ingest(path=demo_files[1])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT service_date_from, billing_provider_id FROM claims_claim WHERE batch_id = %s",
            [second.batch.id],
        )
        touched = set(cursor.fetchall())

    (daily, _, providers, provider_months) = summaries_refresh_batch(batch_id=second.batch.id, trigger="test")

    after = {
        r[:2]: r[2] for r in _rows("analytics_providerdailytotals", ("day", "billing_provider_id", "claims"))
    }
    assert providers.rows == len(touched)
    assert daily.rows == len({day for day, _ in touched})
    assert provider_months.rows == len({(day.replace(day=1), provider) for day, provider in touched})
    changed = {key for key in after if after[key] != before.get(key)}
    assert changed and changed <= touched


def test_validation_moves_claims_and_incremental_follows(demo_files: list[Path]) -> None:
    batch = batch_ingest(path=demo_files[0]).batch
    summaries_rebuild(trigger="test")
    assert sum(row[0] for row in _rows("analytics_claimsdailytotals", ("open",))) == batch.claim_count

    batch_validate(batch_id=batch.id, path=demo_files[0])
    summaries_refresh_days(days=batch_touched_days(batch_id=batch.id), trigger="test")

    # Validated claims are still open work (not yet adjudicated); the writer's claims all pass the checks.
    totals = _rows("analytics_claimsdailytotals", ("approved", "denied", "open", "pended"))
    assert [sum(column) for column in zip(*totals, strict=True)] == [0, 0, batch.claim_count, 0]
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VALIDATED}


def test_a_batch_refreshes_its_summaries_and_exactly_the_views_pages_read(demo_files: list[Path]) -> None:
    batch = batch_ingest(path=demo_files[0]).batch

    outcomes = refresh_after_batch(batch.id)

    trigger = f"ingest:batch {batch.id}"
    refreshed = list(RefreshLog.objects.filter(trigger=trigger).order_by("id").values_list("view", flat=True))
    summaries = [
        "analytics_claimsdailytotals",
        "analytics_plandailytotals",
        "analytics_providerdailytotals",
        "analytics_providermonthlytotals",
    ]
    views = [
        "analytics_queue_depth_daily_mv",
        "analytics_revenue_monthly_mv",
        "analytics_diagnosis_monthly_mv",
        "analytics_failed_monthly_mv",
        "analytics_status_flow_monthly_mv",
    ]
    # Summaries first (incremental, one transaction), then the views in the registry order.
    assert refreshed == summaries + views
    assert outcomes == dict.fromkeys(summaries + views, RefreshOutcome.SUCCESS)
    # The views no page reads wait for their beat group: a batch does not refresh them.
    assert set(map(view_name, ALL_VIEWS)) - set(refreshed) == {
        "analytics_processing_realtime_mv",
        "analytics_claims_daily_mv",
        "analytics_plan_daily_mv",
        "analytics_provider_daily_mv",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(claims) FROM analytics_revenue_monthly_mv")
        assert cursor.fetchone()[0] == batch.claim_count
        cursor.execute("SELECT sum(claims) FROM analytics_claimsdailytotals")
        assert cursor.fetchone()[0] == batch.claim_count


def test_the_views_refreshed_after_a_batch_are_the_views_the_pages_read() -> None:
    read = {source for sources in selectors.PAGE_SOURCES.values() for source in sources}

    assert set(REFRESHED_AFTER_BATCH) == read & set(ALL_VIEWS)
    # Every other source a page reads is a summary table, which the batch recomputes itself.
    assert {model._meta.db_table for model in read - set(ALL_VIEWS)} == {s.table for s in SUMMARIES}


def test_every_view_group_has_a_beat_schedule() -> None:
    # The views a batch leaves out still refresh: each group (all views between them) is on the beat.
    groups = [s.args[0] for s in SCHEDULES if s.task == "analytics.tasks.refresh_view_group"]

    assert sorted(groups) == sorted(GROUPS)
    assert {view for group in GROUPS.values() for view in group} == set(ALL_VIEWS)


def test_beat_schedules_sync_idempotently() -> None:
    from django_celery_beat.models import PeriodicTask

    created = sync_schedules()
    again = sync_schedules()

    assert sorted(created) == sorted(s.name for s in SCHEDULES) and again == []
    tasks = {t.name: t for t in PeriodicTask.objects.filter(name__in=[s.name for s in SCHEDULES])}
    assert tasks["analytics: real-time views"].interval.every == 5
    assert tasks["analytics: day-grain views"].interval.every == 60
    assert tasks["analytics: month-grain views"].interval.every == 30
    assert tasks["analytics: rebuild day summaries"].crontab.hour == "2"
    assert tasks["analytics: real-time views"].args == '["realtime"]'


def test_diagnosis_view_counts_each_claim_once_by_its_principal_diagnosis(
    tmp_path: Path, shared_x12: Path
) -> None:
    raw = (
        (shared_x12 / "837P/uhin/837.edi")
        .read_bytes()
        .replace(b"HI*ABK:R69~", b"HI*ABK:E119*ABF:E1165*ABF:I10~")
    )
    path = tmp_path / "three-codes.edi"
    path.write_bytes(raw)
    batch_ingest(path=path)

    (log,) = views_refresh(views=[v for v in ALL_VIEWS if v.__name__ == "DiagnosisMonthly"], trigger="test")

    rows = {
        (chapter, block, code): (patients, claims, billed)
        for chapter, block, code, patients, claims, billed in _rows(
            "analytics_diagnosis_monthly_mv", ("chapter", "block", "code", "patients", "claims", "billed")
        )
    }
    # The principal (ABK) code E11.9 decides chapter 4 and block E08-E13; the secondary codes do not count.
    one = (1, 1, Decimal("2.00"))
    assert rows == {("4", "", ""): one, ("4", "E08-E13", ""): one, ("4", "E08-E13", "E119"): one}
    assert log.rows == 3
