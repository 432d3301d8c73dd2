"""/metrics: database-health and maintenance gauges (ops/metrics.py), and the shipped alert rules and dashboard."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from claims.tests.factories import ClaimFactory
from ops import metrics
from ops.models import TaskOutcome, TaskRun
from tests.owner import admin_execute, owner_execute

pytestmark = pytest.mark.django_db

MONITORING = Path(metrics.__file__).resolve().parent / "monitoring"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", re.M)
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
# Metric names in a PromQL expression: ours and django-prometheus's (label names never start with these).
METRIC_TOKEN = re.compile(r"\b((?:claims|django)_[a-zA-Z0-9_:]*)")


def scrape(client: Client) -> str:
    response = client.get("/metrics", HTTP_HOST="localhost")
    assert response.status_code == 200
    return response.content.decode()


def samples(body: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Samples of one metric: sorted (label, value) pairs -> value."""
    found = {}
    for metric, labels, value in SAMPLE.findall(body):
        if metric == name:
            found[tuple(sorted(LABEL.findall(labels)))] = float(value)
    return found


def by_label(body: str, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for labels, value in samples(body, name).items()}


def exported_names(body: str) -> set[str]:
    """Every metric family (``# TYPE``) and sample name (histogram ``_bucket`` etc.) the scrape exported."""
    names = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    return names | {metric for metric, _, _ in SAMPLE.findall(body)}


# -- gauges ------------------------------------------------------------------------------------------------------


def test_future_months_count_the_partitions_pgpartition_created(client: Client) -> None:
    # The session fixture ran pgpartition: this month and 3 ahead.
    future = by_label(scrape(client), "claims_partitions_future_months", "table")
    assert future == {"claims_claim": 3, "claims_claimline": 3, "ops_auditevent": 3}


@pytest.mark.django_db(transaction=True)  # no open transaction holding the parent while the owner detaches
def test_future_months_stop_at_a_missing_month(client: Client) -> None:
    from dateutil.relativedelta import relativedelta

    from ops.partitions import partition_name
    from ops.platform.partitioning import month_bounds

    gap = timezone.now().date().replace(day=1) + relativedelta(months=2)
    name = partition_name("ops_auditevent", gap)
    lo, hi = month_bounds(gap, timestamptz=True)
    owner_execute(f"ALTER TABLE ops_auditevent DETACH PARTITION {name}")  # the owner's; attached again below
    try:
        future = by_label(scrape(client), "claims_partitions_future_months", "table")
    finally:
        owner_execute(
            f"ALTER TABLE ops_auditevent ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"
        )
    assert future == {"claims_claim": 3, "claims_claimline": 3, "ops_auditevent": 1}


def test_default_rows_count_a_claim_without_its_month(client: Client) -> None:
    assert by_label(scrape(client), "claims_partition_default_rows", "table")["claims_claim"] == 0

    ClaimFactory(service_date_from=dt.date(2001, 1, 1))  # no 2001 partition: lands in DEFAULT (rolled back)

    rows = by_label(scrape(client), "claims_partition_default_rows", "table")
    assert rows == {"claims_claim": 1, "claims_claimline": 0, "ops_auditevent": 0}


def test_last_success_and_outcome_of_maintenance_jobs(client: Client) -> None:
    finished = timezone.now().replace(microsecond=0)
    TaskRun.objects.create(
        job="partitions_maintain",
        started_at=finished - dt.timedelta(seconds=5),
        finished_at=finished,
        outcome=TaskOutcome.SUCCESS,
    )
    # A later failed run: the last success stays, the latest outcome is "failed". Dry runs are ignored.
    TaskRun.objects.create(
        job="partitions_maintain", started_at=finished, finished_at=finished, outcome=TaskOutcome.FAILED
    )
    TaskRun.objects.create(
        job="reindex_bloated", started_at=finished, finished_at=finished, outcome="success", dry_run=True
    )

    body = scrape(client)

    success = samples(body, "claims_maintenance_last_success_timestamp_seconds")
    assert success == {(("job", "partitions_maintain"), ("schedule", "daily")): finished.timestamp()}
    outcome = samples(body, "claims_maintenance_last_outcome")
    assert outcome == {(("job", "partitions_maintain"), ("outcome", "failed")): 1.0}


def test_job_schedules_come_from_beat() -> None:
    assert metrics.job_schedules() == {
        "partitions_maintain": "daily",
        "cleanup_expired": "daily",
        "reindex_bloated": "weekly",
    }


def test_cache_hit_ratio_and_dead_tuple_ratios(client: Client) -> None:
    ClaimFactory()
    body = scrape(client)

    (ratio,) = samples(body, "claims_db_cache_hit_ratio").values()
    assert 0 < ratio <= 1
    dead = by_label(body, "claims_table_dead_tuple_ratio", "table")
    assert len(dead) == metrics.DEAD_TUPLE_TABLES  # the public schema has more tables than that
    assert all(0 <= value <= 1 for value in dead.values())
    # Which tables are largest depends on pg_class.relpages (set by VACUUM / ANALYZE); all are top-level ones:
    # partitions are rolled up into their parent.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND NOT relispartition"
            " AND relkind IN ('r', 'p', 'm') AND relnamespace = 'public'::regnamespace",
            [list(dead)],
        )
        assert {name for (name,) in cursor.fetchall()} == set(dead)


def _pg_stat_statements_readable() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
        installed = cursor.fetchone() is not None
    # The server's preload list is for superusers and pg_read_all_settings only.
    (preloaded,) = admin_execute(
        "SELECT 'pg_stat_statements' = ANY(string_to_array(current_setting('shared_preload_libraries'), ', '))"
    )[0]
    return installed and bool(preloaded)


def test_slow_statements_count_entries_above_the_threshold(client: Client) -> None:
    if not _pg_stat_statements_readable():
        assert samples(scrape(client), "claims_db_slow_statements") == {}
        pytest.skip("pg_stat_statements not installed or not preloaded: the gauge is absent, as checked")
    with override_settings(OPS_METRICS_SLOW_STATEMENT_MS=-1):
        (everything,) = samples(scrape(client), "claims_db_slow_statements").values()
    with override_settings(OPS_METRICS_SLOW_STATEMENT_MS=1e12):
        (none,) = samples(scrape(client), "claims_db_slow_statements").values()
    assert everything > 0 and none == 0


def test_a_failing_read_leaves_the_other_gauges(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(cursor: object) -> metrics.Samples:
        with connection.cursor() as c:
            c.execute("SELECT * FROM no_such_relation")
        return []

    monkeypatch.setattr(metrics, "READERS", (broken, *metrics.READERS))

    body = scrape(client)

    assert by_label(body, "claims_partitions_future_months", "table")["claims_claim"] == 3
    assert samples(body, "claims_db_cache_hit_ratio")


# -- alert rules and dashboard -----------------------------------------------------------------------------------


@pytest.fixture
def exported(client: Client) -> set[str]:
    """Names /metrics exports once a maintenance job has run (no view refreshed: its family is still typed)."""
    now = timezone.now()
    TaskRun.objects.create(
        job="cleanup_expired", started_at=now, finished_at=now, outcome=TaskOutcome.SUCCESS
    )
    names = exported_names(scrape(client))
    assert set(metrics.METRIC_NAMES) | {"claims_analytics_view_age_seconds"} <= names
    return names


def test_alert_rules_use_exported_metrics_only(exported: set[str]) -> None:
    rules_file = MONITORING / "prometheus-alerts.yml"
    document = yaml.safe_load(rules_file.read_text())

    rules = [rule for group in document["groups"] for rule in group["rules"]]
    used: set[str] = set()
    for rule in rules:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        names = set(METRIC_TOKEN.findall(rule["expr"]))
        assert names, rule["alert"]
        assert names <= exported, (rule["alert"], names - exported)
        used |= names
    # Every gauge asked for has an alert.
    assert used >= set(metrics.METRIC_NAMES) | {"claims_analytics_view_age_seconds"}
    assert "partitions_maintain" in " ".join(r["annotations"]["description"] for r in rules)

    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool:  # Debian's `prometheus` package ships it; optional.
        result = subprocess.run(
            [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_dashboard_panels_use_exported_metrics(exported: set[str]) -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())

    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] and dashboard["title"]
    (variable,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "prometheus"
    used: set[str] = set()
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"]["uid"] == "${" + variable["name"] + "}"
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(METRIC_TOKEN.findall(target["expr"]))
            assert names and names <= exported, (panel["title"], names - exported)
            used |= names
    assert used >= set(metrics.METRIC_NAMES) | {"claims_analytics_view_age_seconds"}
    assert any(n.startswith("django_http_requests_latency") for n in used)
    assert any(n.startswith("django_http_requests_total") for n in used)
