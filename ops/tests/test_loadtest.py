"""`make loadtest`'s parts: the report's arithmetic, the users and sample it sets up, and a short real locust run
of the whole mix against a live server (every page of the mix answers, every user signs in)."""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from analytics import cache
from analytics.tests.data import ensure_reference_data
from claims.tests.factories import ClaimFactory
from ops.loadtest import report

ROOT = Path(__file__).resolve().parents[2]


def _groups() -> None:
    """The analysts' and the examiners' groups, which a transactional test elsewhere may have flushed."""
    ensure_reference_data()
    importlib.import_module("claims.migrations.0013_examiner_groups").create_groups(apps, None)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(values, 95) == 95.0
    assert report.percentile(values, 50) == 50.0
    assert report.percentile([7.0], 95) == 7.0
    assert math.isnan(report.percentile([], 95))


def _write_step(
    run: Path, users: int, *, admin: list[float], analytics: list[float], errors: int = 0
) -> None:
    data = {
        "timings_ms": {"admin": admin, "analytics": analytics, "ops": [10.0]},
        "errors": {"admin": errors},
        "analytics_cache": {"hit": 3, "miss": 1},
    }
    (run / f"timings-{users}.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_step_is_held_only_with_every_target_met_and_no_error(tmp_path: Path) -> None:
    _write_step(tmp_path, 50, admin=[100.0] * 95 + [900.0] * 5, analytics=[150.0] * 100)
    _write_step(tmp_path, 100, admin=[100.0] * 94 + [900.0] * 6, analytics=[150.0] * 100)
    _write_step(tmp_path, 150, admin=[100.0] * 100, analytics=[150.0] * 100, errors=1)
    steps = [report.read_step(tmp_path, u) for u in (50, 100, 150)]
    assert [s.p95["admin"] for s in steps] == [100.0, 900.0, 100.0]
    assert [s.held for s in steps] == [True, False, False]
    assert report.main(["report", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "most users held among the steps run: 50" in text
    assert "| 100 | admin | 100 | 100 | 900 | 900 | 0 | 500 | NO |" in text
    assert "analytics JSON cache: 3 hits of 4 answers (75.0%)" in text


@pytest.mark.django_db
def test_setup_makes_three_least_privilege_users_and_a_sample_of_the_newest_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    _groups()
    # Months the test database has partitions for (conftest.TEST_MONTHS_BACK): no partition is made here.
    this_month = dt.date.today().replace(day=1)
    older, newer = this_month - relativedelta(months=3), this_month - relativedelta(months=1)
    old = ClaimFactory(service_date_from=older, service_date_to=older)
    new = [
        ClaimFactory(service_date_from=newer.replace(day=d), service_date_to=newer.replace(day=d))
        for d in (2, 9)
    ]
    monkeypatch.setenv("LOADTEST_PASSWORD", "a-run-password")
    call_command("loadtest_setup", "--sample", str(tmp_path / "sample.json"))
    sample = json.loads((tmp_path / "sample.json").read_text(encoding="utf-8"))
    assert sorted(sample["claim_ids"]) == sorted(c.id for c in new)
    assert old.id not in sample["claim_ids"]
    assert sorted(sample["claim_numbers"]) == sorted(c.claim_number for c in new)
    assert {"/analytics/", "/analytics/providers/", "/analytics/report/csv/"} <= set(
        sample["analytics_pages"]
    )
    assert "/analytics/report/pdf/" not in sample["analytics_pages"]
    assert len(sample["analytics_api"]) == 9 and all("/api/" in u for u in sample["analytics_api"])

    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="loadtest-")}
    assert set(users) == {"loadtest-examiner", "loadtest-analyst", "loadtest-ops"}
    assert all(
        u.check_password("a-run-password") and u.is_staff and not u.is_superuser for u in users.values()
    )
    assert users["loadtest-analyst"].has_perm("analytics.view_dashboards")
    assert not users["loadtest-analyst"].has_perm("ops.view_ops_reports")
    assert users["loadtest-ops"].has_perm("ops.view_ops_reports")
    assert not users["loadtest-ops"].has_perm("analytics.view_dashboards")
    assert users["loadtest-examiner"].has_perm("claims.view_claim")
    assert not users["loadtest-examiner"].has_perm("analytics.view_dashboards")


def _bypassed() -> float:
    """Analytics JSON answers this process has served uncached (analytics.cache's counter, every endpoint)."""
    return sum(
        sample.value
        for metric in cache.REQUESTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("result") == "bypass"
    )


@pytest.mark.django_db(transaction=True)
def test_the_mix_runs_against_a_live_server_without_an_error(
    tmp_path: Path, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    _groups()
    for d in (3, 4, 5):
        day = dt.date.today().replace(day=1) - relativedelta(months=2, days=-d)
        ClaimFactory(service_date_from=day, service_date_to=day)
    monkeypatch.setenv("LOADTEST_PASSWORD", "a-run-password")
    call_command("loadtest_setup", "--sample", str(tmp_path / "sample.json"))
    bypassed_before = _bypassed()
    env = {
        **os.environ,
        "LOADTEST_PASSWORD": "a-run-password",
        "LOADTEST_SAMPLE": str(tmp_path / "sample.json"),
        "LOADTEST_TIMINGS": str(tmp_path / "timings-6.json"),
    }
    # A real locust process: 6 users (3 examiners, 2 analysts, 1 ops by the weights), for 8 s after the ramp.
    subprocess.run(
        [
            str(Path(sys.executable).parent / "locust"),
            *(
                "-f",
                str(ROOT / "ops/loadtest/locustfile.py"),
                "--headless",
                "--users",
                "6",
                "--spawn-rate",
                "6",
            ),
            *("--run-time", "8s", "--host", live_server.url, "--only-summary", "--exit-code-on-error", "0"),
        ],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = json.loads((tmp_path / "timings-6.json").read_text(encoding="utf-8"))
    assert {g: n for g, n in data["errors"].items() if n} == {}
    assert all(data["timings_ms"].get(g) for g in ("admin", "analytics", "ops")), {
        g: len(v) for g, v in data["timings_ms"].items()
    }
    # The charts' JSON answers are counted by their X-Cache header ("none" were it missing); the test settings
    # switch the cache off. An analyst's tasks are drawn at random, so in 8 s there may be no chart at all: the
    # server's own count (the live server runs in this process) bounds what locust counted after the ramp.
    served = _bypassed() - bypassed_before
    assert set(data["analytics_cache"]) <= {"bypass"}, data["analytics_cache"]
    assert data["analytics_cache"].get("bypass", 0) <= served


def test_the_load_tests_server_runs_with_debug_off() -> None:
    """The settings scripts/loadtest.sh gives gunicorn: DEBUG off (with it on, Django keeps every query)."""
    (exported,) = [
        line.removeprefix("export ").split()
        for line in (ROOT / "scripts/loadtest.sh").read_text(encoding="utf-8").splitlines()
        if line.startswith("export DJANGO_SETTINGS_MODULE=")
    ]
    server_env = dict(item.split("=", 1) for item in exported if not item.startswith("SERVE_ADDR"))
    assert server_env["DJANGO_SETTINGS_MODULE"] == "config.settings.dev"
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); print(settings.DEBUG)",
        ],
        env={**os.environ, **server_env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert shown.stdout.strip() == "False"
