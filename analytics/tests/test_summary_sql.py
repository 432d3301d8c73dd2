"""The summary tables' combined and alternative SELECTs give the rows of the one definition they are built from:
DAY_AND_PLAN (day and plan rows in one pass) those of the CLAIMS_DAILY and PLAN_DAILY views' SELECTs, the month
table's per-pair LATERAL form those of its plain GROUP BY (the full rebuild)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from analytics import sql
from analytics.services.summaries import SUMMARIES, summaries_rebuild
from claims.services.ingest import batch_ingest
from ops.synthetic.x12_files import generate_demo_files

pytestmark = pytest.mark.django_db

DAYS, PLANS, _, MONTHS = SUMMARIES


def _fetch(query: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


@pytest.fixture
def claims(tmp_path: Path, shared_x12: Path) -> None:
    for demo in generate_demo_files(
        tmp_path, files=2, claims_per_file=60, seed=7, as_of=dt.date(2026, 11, 1)
    ):
        batch_ingest(path=demo.path)
    # Late claims on old days, replaced and voided claims among them.
    batch_ingest(path=shared_x12 / "837P/oopfactory/MissingEntityCode.txt")


def test_day_and_plan_in_one_pass_equal_the_views_selects(claims: None) -> None:
    combined = sql.DAY_AND_PLAN.format(day_filter=sql.ALL_DAYS)
    for summary, all_plans, alone in ((DAYS, 1, sql.CLAIMS_DAILY), (PLANS, 0, sql.PLAN_DAILY)):
        columns = ", ".join(summary.columns)
        rows = _fetch(
            f"SELECT {columns} FROM ({combined}) t WHERE all_plans = {all_plans} ORDER BY {columns}"
        )
        assert rows
        assert rows == _fetch(
            f"SELECT {columns} FROM ({alone.format(day_filter=sql.ALL_DAYS)}) t ORDER BY {columns}"
        ), summary.table


def test_the_views_selects_are_built_from_the_day_aggregates() -> None:
    # One definition: every column of a day-grain SELECT is its DAY_AGGREGATES expression.
    for select, columns in (
        (sql.CLAIMS_DAILY, sql.CLAIMS_DAILY_COLUMNS),
        (sql.PLAN_DAILY, sql.PLAN_DAILY_COLUMNS),
        (sql.PROVIDER_DAILY, sql.PROVIDER_DAILY_COLUMNS),
        (sql.DAY_AND_PLAN, sql.CLAIMS_DAILY_COLUMNS + sql.PLAN_DAILY_COLUMNS),
    ):
        flat = " ".join(select.split())
        for name in columns:
            assert f"{sql.DAY_AGGREGATES[name]} AS {name}" in flat
    assert DAYS.columns[1:] == sql.CLAIMS_DAILY_COLUMNS
    assert PLANS.columns[2:] == sql.PLAN_DAILY_COLUMNS


def test_month_pairs_form_equals_the_plain_group_by(claims: None) -> None:
    summaries_rebuild(trigger="test")
    columns = ", ".join(MONTHS.columns)
    every_pair = (
        "(SELECT DISTINCT date_trunc('month', day)::date, billing_provider_id "
        "FROM analytics_providerdailytotals)"
    )
    full = _fetch(f"SELECT {columns} FROM ({MONTHS.select.format(day_filter=sql.ALL_DAYS)}) t ORDER BY 1, 2")
    pairs = _fetch(
        f"SELECT {columns} FROM ({sql.PROVIDER_MONTHLY_PAIRS.format(groups=every_pair)}) t ORDER BY 1, 2"
    )

    assert full and pairs == full
    assert _fetch(f"SELECT {columns} FROM {MONTHS.table} ORDER BY 1, 2") == full
