"""``manage.py benchmark`` at tiny scale: both schemas answer every query alike, the baseline has only keys,
the views answer the analytics queries as the claim tables do, every view and summary is refreshed and timed,
every analytics page is fetched.

Timings are never asserted (they mean nothing at a few hundred claims); the shape of the output, the equality
of the answers and the baseline's structure are. The ingest part (a migrate and a load in subprocesses)
runs once on its own, at 40 claims.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import URLPattern, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from analytics import urls as analytics_urls
from analytics.services.refresh import ALL_VIEWS, view_name
from analytics.services.summaries import SUMMARIES
from claims.models import AdjudicationRun, Claim, Remittance, RemittanceRun
from claims.services.ingest import batch_ingest
from members.models import Enrollment, HealthPlan
from ops.benchmark.baseline import (
    BASELINE_SCHEMA,
    baseline_tables,
    drop_baseline,
    ensure_baseline,
    schema_indexes,
)
from ops.benchmark.beside import scale_label
from ops.benchmark.catalog import ADMIN_REQUESTS, CATALOG, ICD10_CHAPTERS, icd10_chapter, select
from ops.benchmark.ingest import database_url, run_ingest_benchmark, scratch_database_name
from ops.benchmark.pages import MONTHLY_REPORT_URLS, analytics_pages, superuser_client
from ops.benchmark.params import add_months, period_end_for, pick_params
from ops.benchmark.runner import analytics_tables, answer_digest, percentile, search_path
from ops.synthetic.x12_files import generate_demo_files
from ops.tests.helpers import add_claims
from providers.models import Provider, ProviderNetwork
from tests.owner import default_as_owner


@pytest.fixture(autouse=True, scope="module")
def _benchmark_runs_as_the_owner(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The benchmark is a development tool run as the owner (README "Benchmark"): it creates the baseline
    schema and scratch databases, which the app role may not."""
    with django_db_blocker.unblock(), default_as_owner():
        yield


PLAN_FIELDS = {
    "top_scan",
    "top_scan_relation",
    "top_scan_indexes",
    "scan_nodes",
    "indexes",
    "partitions_scanned",
    "shared_hit",
    "shared_read",
}


@pytest.fixture
def claims_loaded(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """A few hundred demo claims, a third approved and a third denied, with network rows; baseline dropped after."""
    today = dt.datetime.now(dt.UTC).date()
    for generated in generate_demo_files(
        tmp_path / "837", files=2, claims_per_file=150, seed=11, as_of=today
    ):
        assert not batch_ingest(path=generated.path).rejected
    with connection.cursor() as cursor:
        # Adjudicate some claims so that status filters, money and the status flow have something to count.
        cursor.execute(
            """
            UPDATE claims_claim
            SET status = CASE WHEN id % 3 = 0 THEN 'approved' ELSE 'denied' END,
                denial_reason_code = CASE WHEN id % 3 = 0 THEN '' ELSE '45' END,
                total_paid = CASE WHEN id % 3 = 0 THEN ROUND(total_charge * 0.8, 2) ELSE 0 END,
                processed_at = now()
            WHERE id % 3 <> 2
            """
        )
        cursor.execute(
            """
            INSERT INTO claims_claimstatushistory
                (claim_id, claim_service_date_from, from_status, to_status, changed_at, source, note)
            SELECT id, service_date_from, 'received', status, now(), 'adjudication', ''
            FROM claims_claim WHERE status <> 'received'
            """
        )
    plans = list(HealthPlan.objects.order_by("id")[:2])
    ProviderNetwork.objects.bulk_create(
        ProviderNetwork(provider=provider, plan=plan, accepting_new_patients=True)
        for provider in Provider.objects.all()
        for plan in plans
    )
    yield
    drop_baseline()


def test_benchmark_answers_every_query_alike_on_both_schemas(claims_loaded: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    # --no-vacuum: an ANALYZE here would leave statistics behind for later tests (TRUNCATE keeps them).
    # The refresh and the analytics pages have a test of their own.
    args = [
        "--iterations",
        "2",
        "--warmup",
        "1",
        "--skip-ingest",
        "--no-vacuum",
        "--skip-refresh",
        "--skip-pages",
    ]
    call_command("benchmark", *args, "--output-dir", str(out))

    (json_path,) = out.glob("*.json")
    (md_path,) = out.glob("*.md")
    report = json.loads(json_path.read_text())
    # <date>-<claims on file>: a 1M and a 10M run of one day do not overwrite each other.
    label = scale_label(report["scale"]["claims_claim"])
    assert json_path.stem == md_path.stem == f"{dt.datetime.now(dt.UTC).date().isoformat()}-{label}"

    assert [query["name"] for query in report["queries"]] == [query.name for query in CATALOG]
    assert [page["name"] for page in report["admin"]["requests"]] == [
        request.name for request in ADMIN_REQUESTS
    ]
    for entry in report["queries"] + report["admin"]["requests"]:
        baseline, platform = entry["baseline"], entry["platform"]
        for measured in (baseline, platform):
            assert measured["iterations"] == 2
            assert 0 <= measured["p50_ms"] <= measured["p95_ms"] <= measured["max_ms"], entry["name"]
        # The same SQL (or page) must give the same answer from either schema.
        assert (baseline["rows"], baseline["digest"]) == (platform["rows"], platform["digest"]), entry["name"]
        assert entry["same_answer"] is True
    for entry in report["queries"]:
        for schema in ("baseline", "platform"):
            assert PLAN_FIELDS <= set(entry[schema]["plan"]), entry["name"]
        # No partitions in the baseline; the platform's claim queries read partitions.
        assert entry["baseline"]["plan"]["partitions_scanned"] == 0
    by_name = {entry["name"]: entry for entry in report["queries"]}
    assert by_name["member_claim_history"]["platform"]["plan"]["partitions_scanned"] >= 1
    assert by_name["member_by_number"]["baseline"]["plan"]["top_scan"] == "Seq Scan"
    # The data has rows for these, so equal answers are not just two empty results.
    for name in ("provider_directory", "claims_work_queue", "icd10_by_chapter_and_code", "claim_status_flow"):
        assert by_name[name]["platform"]["rows"] > 0, name
    assert report["scale"]["claims_claim"] == 300
    assert report["ingest"] is None

    # The baseline: every benchmarked table, and no index but its primary key.
    indexes = schema_indexes(BASELINE_SCHEMA)
    assert sorted(index.table for index in indexes) == sorted(baseline_tables())
    assert all(index.is_primary for index in indexes)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [BASELINE_SCHEMA])
        assert sorted(row[0] for row in cursor.fetchall()) == sorted(index.name for index in indexes)

    markdown = md_path.read_text()
    assert "| query | what | baseline ms | platform ms | ratio |" in markdown
    # The Queries and Admin pages tables (the analytics queries have a row in View-backed analytics too).
    tables = markdown.split("## View-backed analytics")[0] + markdown.split("## Admin pages")[1]
    for name in [query.name for query in CATALOG] + [request.name for request in ADMIN_REQUESTS]:
        (row,) = [line for line in tables.splitlines() if line.startswith(f"| {name} |")]
        assert row.split(" | ")[4].endswith("x") or "n/a" in row, row  # the ratio column
    assert "DIFFER" not in markdown

    # Reports are meant to be committed: the member's number and name and the claim number stay out.
    picked = pick_params()
    for text in (json_path.read_text(), markdown):
        for identifying in (picked.member_number, picked.claim_number, picked.member_search_term):
            assert identifying not in text


def test_second_run_reuses_the_baseline_until_public_changes(claims_loaded: None, tmp_path: Path) -> None:
    args = ["--iterations", "1", "--warmup", "0", "--skip-ingest", "--skip-admin", "--no-vacuum"]
    args += ["--only", "member_by_number", "--skip-refresh"]
    call_command("benchmark", *args, "--output-dir", str(tmp_path / "a"))
    call_command("benchmark", *args, "--output-dir", str(tmp_path / "b"))
    (second,) = (tmp_path / "b").glob("*.json")
    assert json.loads(second.read_text())["baseline"]["reused"] is True

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE claims_claim SET total_paid = total_paid + 1 WHERE id = (SELECT MIN(id) FROM claims_claim)"
        )
    call_command("benchmark", *args, "--output-dir", str(tmp_path / "c"))
    (third,) = (tmp_path / "c").glob("*.json")
    third_report = json.loads(third.read_text())
    assert third_report["baseline"]["reused"] is False
    assert "claims_claim" in third_report["baseline"]["reason"]
    assert [query["name"] for query in third_report["queries"]] == ["member_by_number"]


def test_search_path_switches_tables_and_restores_the_session(claims_loaded: None) -> None:
    ensure_baseline()
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        before = cursor.fetchone()[0]
    with search_path("baseline"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'claims_claim'::regclass::oid = %s::regclass::oid", [f"{BASELINE_SCHEMA}.claims_claim"]
        )
        assert cursor.fetchone()[0] is True
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0] == before


def test_icd10_chapters_agree_with_simple_icd_10_cm() -> None:
    import simple_icd_10_cm as icd

    codes = [
        code
        for code in icd.get_all_codes(False)
        if icd.is_category_or_subcategory(code) or icd.is_extended_subcategory(code)
    ]
    assert len(codes) > 90_000
    wrong = [code for code in codes if icd10_chapter(code) != int(icd.get_ancestors(code)[-1])]
    assert wrong == []
    assert len(ICD10_CHAPTERS) == 22
    assert icd10_chapter("E119") == 4 and icd10_chapter("O9A.1") == 15 and icd10_chapter("1234") is None


def test_percentile_interpolates_and_stays_within_the_samples() -> None:
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 0.95) == pytest.approx(80.8)
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_periods_end_with_the_latest_full_month() -> None:
    assert period_end_for(dt.date(2026, 11, 21)) == dt.date(2026, 11, 1)
    assert period_end_for(dt.date(2026, 10, 31)) == dt.date(2026, 11, 1)
    assert period_end_for(dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)
    assert add_months(dt.date(2026, 2, 1), -3) == dt.date(2025, 11, 1)


def test_only_selects_by_name_substring() -> None:
    names = tuple(query.name for query in CATALOG)
    assert select(names, ()) == names
    assert select(names, ("member_", "status_flow")) == (
        "member_by_number",
        "member_name_dob_search",
        "member_claim_history",
        "claim_status_flow",
    )


def test_scratch_database_url_keeps_server_and_role() -> None:
    url = database_url("claims_ingest_bench")
    config = connection.settings_dict
    assert url.endswith("/claims_ingest_bench")
    assert f"{config['HOST']}:{config['PORT']}" in url


@pytest.mark.django_db(transaction=True)
def test_ingest_benchmark_loads_a_scratch_database_and_drops_it(tmp_path: Path) -> None:
    result = run_ingest_benchmark(claims=40, validate_claims=10, workdir=tmp_path)

    assert (result.claims, result.claims_loaded, result.validate_claims) == (40, 40, 10)
    assert result.claims_per_second > 0 and result.validate_claims_per_second > 0
    assert result.scratch_database == scratch_database_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_database WHERE datname = %s", [result.scratch_database])
        assert cursor.fetchone()[0] == 0
        # Nothing reached the benchmarked database.
        cursor.execute("SELECT COUNT(*) FROM claims_claim")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_ingest_benchmark_can_load_onto_a_copy_of_the_benchmarked_database(tmp_path: Path) -> None:
    """Issue 11 measures a load into a database that already holds claims: the scratch database is then a copy of
    the benchmarked one, and a second, smaller file shows peak RSS at two sizes."""
    add_claims([dt.date.today().replace(day=1) - dt.timedelta(days=20)] * 3)

    result = run_ingest_benchmark(
        claims=40, small_claims=20, onto_copy=True, validate_claims=10, workdir=tmp_path
    )

    assert (result.claims_on_file, result.claims_loaded, result.small_claims) == (3, 40, 20)
    assert result.small_claims_per_second > 0 and result.small_peak_rss_mib > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_database WHERE datname = %s", [result.scratch_database])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT COUNT(*) FROM claims_claim")
        assert cursor.fetchone()[0] == 3  # the copy took the load, not the benchmarked database


ANALYTICS_QUERIES = [query for query in CATALOG if query.group == "analytics"]
CLAIM_TABLE = re.compile(r"\bclaims_(claim\w*|ingestbatch)\b")


def test_views_answer_the_analytics_queries_as_the_claim_tables_do(
    claims_loaded: None, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    only = ",".join([*(query.name for query in ANALYTICS_QUERIES), "analytics_"])
    args = [
        "--iterations",
        "2",
        "--warmup",
        "1",
        "--skip-ingest",
        "--skip-admin",
        "--no-vacuum",
        "--only",
        only,
    ]
    call_command("benchmark", *args, "--output-dir", str(out))
    (json_path,) = out.glob("*.json")
    report = json.loads(json_path.read_text())
    markdown = next(out.glob("*.md")).read_text()

    # Views: refreshed by the run, so a comparable variant must give the claim tables' rows.
    assert report["views_refreshed_by_run"] is True
    assert [entry["name"] for entry in report["queries"]] == [query.name for query in ANALYTICS_QUERIES]
    for entry in report["queries"]:
        view, platform = entry["view"], entry["platform"]
        assert view["columns_match"] is True, entry["name"]
        assert 0 <= view["measured"]["p50_ms"] <= view["measured"]["p95_ms"] <= view["measured"]["max_ms"]
        assert view["ratio_platform_p95_to_view_p95"] is not None
        if view["comparable"]:
            assert view["same_answer"] is True, entry["name"]
            assert platform["rows"] == view["measured"]["rows"] > 0, entry["name"]
        else:
            assert view["same_answer"] is None and view["note"].startswith("Not comparable"), entry["name"]
    comparable = {entry["name"] for entry in report["queries"] if entry["view"]["comparable"]}
    assert comparable == {query.name for query in ANALYTICS_QUERIES} - {"icd10_by_chapter_and_code"}
    (flow,) = [entry for entry in report["queries"] if entry["name"] == "claim_status_flow"]
    assert flow["view"]["unanswered"] == []  # every column, not just some

    # Refresh: every view, then every summary table in full and incrementally, all successful.
    refresh = report["refresh"]
    assert sorted(step["name"] for step in refresh["views"]["steps"]) == sorted(map(view_name, ALL_VIEWS))
    summary_tables = [summary.table for summary in SUMMARIES]
    assert [step["name"] for step in refresh["summaries_full"]["steps"]] == summary_tables
    assert [step["name"] for step in refresh["summaries_incremental"]["steps"]] == summary_tables
    for phase, kind in (
        ("views", "full"),
        ("summaries_full", "full"),
        ("summaries_incremental", "incremental"),
    ):
        for step in refresh[phase]["steps"]:
            assert (step["kind"], step["outcome"]) == (kind, "success"), step
            assert step["ms"] >= 0 and step["rows"] >= 0, step
        assert refresh[phase]["total_ms"] == pytest.approx(
            sum(step["ms"] for step in refresh[phase]["steps"])
        )
    batch = refresh["summaries_incremental"]["batch"]
    assert batch["claims"] == 300  # fewer than 10,000 on file: all of them
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(DISTINCT service_date_from) FROM claims_claim")
        assert batch["service_days"] == cursor.fetchone()[0]

    # Pages: every analytics URL answered 200 without touching the claim tables.
    pages = report["pages"]["pages"]
    assert [page["name"] for page in pages] == [page.name for page in analytics_pages()]
    for page in pages:
        assert page["status"] == 200 and page["claim_table_statements"] == 0, page["name"]
        assert page["statements"] > 0 and page["request"]["iterations"] == 2, page["name"]
        assert page["slowest_statement"]["p95_ms"] <= page["sql_total"]["max_ms"], page["name"]
    together = report["pages"]["monthly_report"]["sql_together"]
    assert together is not None and together["iterations"] == 2
    assert {target["target"] for target in report["targets"]} >= {
        "each page's statements, p95",
        "monthly report's statements together, p95",
        "each view's full refresh",
        "incremental refresh after a 10,000-claim batch",
    }

    for section in ("## View-backed analytics", "## Refresh", "## Pages", "## Targets"):
        assert section in markdown
    for name in [*(query.name for query in ANALYTICS_QUERIES), *(page.name for page in analytics_pages())]:
        assert f"| {name} |" in markdown, name
    for view in ALL_VIEWS:
        assert f"| {view_name(view)} | full, " in markdown
    assert "**differs**" not in markdown


def test_view_variants_read_only_views_and_summaries() -> None:
    assert all(query.view is not None for query in ANALYTICS_QUERIES)
    assert all(query.view is None for query in CATALOG if query.group != "analytics")
    for query in ANALYTICS_QUERIES:
        assert query.view is not None
        sql = query.view.sql
        # Small reference tables (plans, providers) are fine; the claim tables are what the views replace.
        assert CLAIM_TABLE.findall(sql) == [], query.name
        assert set(query.view.reads) <= set(analytics_tables()), query.name
        assert all(table in sql for table in query.view.reads), query.name
        assert query.view.comparable or query.view.note, query.name


def test_every_analytics_url_is_a_benchmarked_page() -> None:
    named = [pattern.name for pattern in analytics_urls.urlpatterns if isinstance(pattern, URLPattern)]
    assert len(analytics_pages()) == len(named) > 7
    # "The monthly report's queries together": the page and every chart its template loads.
    template = Path(settings.BASE_DIR, "analytics/templates/analytics/report.html").read_text()
    charts = re.findall(r"\{% url '(analytics:api-[\w-]+)' %\}", template)
    assert MONTHLY_REPORT_URLS == ("analytics:report", *charts)


def test_answer_digest_compares_numbers_by_value_and_leaves_columns_out() -> None:
    columns = ("day", "claims", "billed", "patients")
    base = [(dt.date(2026, 1, 1), 3, Decimal("12.50"), 2)]
    view = [(dt.date(2026, 1, 1), Decimal("3"), Decimal("12.5"), None)]
    assert answer_digest(base, columns, ("patients",)) == answer_digest(view, columns, ("patients",))
    assert answer_digest(base, columns, ()) != answer_digest(view, columns, ())
    assert answer_digest([(0, True)], ("a", "b"), ()) != answer_digest([(0, 1)], ("a", "b"), ())


DECISION_SECTIONS = ("--skip-adjudicate", "--skip-835", "--skip-examiner", "--skip-work-queue")


def _database_state() -> dict[str, object]:
    """What the decision sections touch, summed up: statuses, CAS rows, line decisions, runs, remittances, users."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, pend_reason, denial_reason_code, COUNT(*), SUM(total_paid), SUM(allowed), "
            "COUNT(assignee_id), COUNT(remittance_id) FROM claims_claim GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
        claims = cursor.fetchall()
        cursor.execute(
            "SELECT decision, COUNT(*), SUM(paid), SUM(allowed) FROM claims_claimline GROUP BY 1 ORDER BY 1"
        )
        lines = cursor.fetchall()
        cursor.execute("SELECT COUNT(*), SUM(amount) FROM claims_claimadjustment")
        adjustments = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM claims_claimstatushistory")
        history = cursor.fetchone()
        cursor.execute("SELECT COUNT(*), SUM(deductible_met) FROM members_memberaccumulator")
        accumulators = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM auth_user")
        users = cursor.fetchone()
    return {
        "claims": claims,
        "lines": lines,
        "adjustments": adjustments,
        "history": history,
        "accumulators": accumulators,
        "users": users,
        "runs": (AdjudicationRun.objects.count(), RemittanceRun.objects.count(), Remittance.objects.count()),
    }


def test_decision_sections_measure_and_leave_the_database_as_found(
    claims_loaded: None, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    # Members enrolled and no review threshold in reach, so that the engine approves or denies the claims.
    pairs = set(Claim.objects.values_list("member_id", "health_plan_id"))
    Enrollment.objects.bulk_create(
        Enrollment(member_id=member, plan_id=plan, effective_date=dt.date(2000, 1, 1))
        for member, plan in pairs
    )
    HealthPlan.objects.update(review_threshold=Decimal("1000000"))
    before = _database_state()
    args = ["--iterations", "2", "--warmup", "1", "--skip-ingest", "--skip-admin", "--skip-refresh"]
    args += ["--skip-pages", "--no-vacuum", "--only", "member_by_number"]
    args += ["--adjudicate-claims", "60", "--examiner-actions", "3"]
    call_command("benchmark", *args, "--output-dir", str(out))
    assert _database_state() == before

    report = json.loads(next(out.glob("*.json")).read_text())
    decisions = report["decisions"]
    assert decisions["rolled_back"] is True and decisions["notes"] == {}
    adjudicate = decisions["adjudicate"]
    assert adjudicate["claims"] == adjudicate["decided"] == 60
    assert sum(adjudicate["outcomes"].values()) == 60 and adjudicate["claims_per_second"] > 0
    assert set(adjudicate["outcomes"]) <= {"approved", "denied", "pended"}
    remit = decisions["generate_835"]
    decided = adjudicate["outcomes"].get("approved", 0) + adjudicate["outcomes"].get("denied", 0)
    # The adjudicated claims have their CAS rows: every decided one balances and is remitted.
    assert remit["claims"] == decided > 0 and remit["left_out"] == remit["refused_groups"] == 0
    assert remit["files"] >= 1 and remit["claims_per_second"] > 0
    assert 1 <= remit["validate_files"] <= remit["files"] and remit["validate_claims"] >= 1
    assert remit["validate_outcome"] == "accepted"
    examiner = decisions["examiner"]
    assert examiner["actions"] == 3
    for action in ("deny", "approve"):
        timing = examiner[action]
        assert timing["iterations"] == 3 and 0 < timing["p50_ms"] <= timing["p95_ms"] <= timing["max_ms"]
    assert sum(examiner["approve_outcomes"].values()) == 3
    queue = decisions["work_queue"]
    assert queue["url"] == "/admin/claims/workqueueclaim/"
    assert queue["request"]["iterations"] == 2 and queue["pended"] >= 6 and queue["rows"] >= 6
    assert {target["target"] for target in report["targets"]} == {
        "adjudication throughput (at least)",
        "examiner deny, one claim, p95",
        "examiner approve, one claim, p95",
        "work queue page, p95",
    }
    (rate,) = [target for target in report["targets"] if target["unit"] == "claims/s"]
    assert rate["limit"] == 5_000 and rate["met"] == (rate["measured"] >= 5_000)

    markdown = next(out.glob("*.md")).read_text()
    assert "## Adjudication, examiner actions, work queue, 835s" in markdown
    for row in ("| claims_adjudicate |", "| generate_835 |", "| pyx12 validation (validate_835) |"):
        assert row in markdown
    assert "| claims_deny (one pended claim) |" in markdown and "| work queue `" in markdown
    assert "| adjudication throughput (at least) | 5,000 claims/s |" in markdown
    assert "NOT rolled back" not in markdown


def test_decision_sections_skip_one_by_one(claims_loaded: None, tmp_path: Path) -> None:
    before = _database_state()
    args = ["--iterations", "1", "--warmup", "0", "--skip-ingest", "--skip-admin", "--skip-refresh"]
    args += ["--skip-pages", "--no-vacuum", "--only", "member_by_number", "--examiner-actions", "1"]
    call_command(
        "benchmark", *args, "--skip-adjudicate", "--skip-work-queue", "--output-dir", str(tmp_path / "a")
    )
    decisions = json.loads(next((tmp_path / "a").glob("*.json")).read_text())["decisions"]
    assert decisions["adjudicate"] is None and decisions["generate_835"] is None
    assert decisions["work_queue"] is None and decisions["examiner"]["actions"] == 1
    assert set(decisions["notes"]) == {"adjudicate", "remit", "work_queue"}

    call_command("benchmark", *args, *DECISION_SECTIONS, "--output-dir", str(tmp_path / "b"))
    report = json.loads(next((tmp_path / "b").glob("*.json")).read_text())
    assert report["decisions"] is None and report["targets"] == []
    assert "--skip-835" in report["command"] and "--skip-work-queue" in report["command"]
    assert _database_state() == before


@pytest.mark.django_db
def test_the_benchmark_client_passes_the_admins_second_factor() -> None:
    # The benchmark runs under the dev settings, where the admin asks for a TOTP code (OTP_REQUIRED); its client
    # must be admitted as a signed-in staff user who passed that step, and leave no user or device behind.
    with override_settings(OTP_REQUIRED=True), superuser_client() as client:
        assert client.get(reverse("admin:index")).status_code == 200
        assert client.get(reverse("admin:claims_workqueueclaim_changelist")).status_code == 200
    assert not get_user_model().objects.filter(username__startswith="benchmark-").exists()
    assert not TOTPDevice.objects.exists()
