"""A real Celery worker on the real Redis broker picks up the refresh queued when a batch commits."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest
from django.db import connection
from django.test import override_settings

from analytics.models import RefreshLog, RefreshOutcome
from analytics.services.refresh import REFRESHED_AFTER_BATCH, view_name
from analytics.services.summaries import SUMMARIES
from claims.services.ingest import batch_ingest
from config.celery import app
from ops.synthetic.x12_files import generate_demo_files
from tests.processes import celery_broker, stop_process

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own, so a developer's broker queue is never read or purged by the test.
TEST_BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")


def _celery(args: list[str], log_path: Path) -> tuple[subprocess.Popen[str], IO[str]]:
    """Start ``celery -A config <args>`` on the test database and the test broker, logging to a file.

    A file, not a pipe: a process that logs more than a pipe holds would block on it.
    """
    settings = connection.settings_dict
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}",
        "REDIS_URL": TEST_BROKER,
    }
    log = log_path.open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, log


@pytest.fixture
def worker(tmp_path: Path):  # type: ignore[no-untyped-def]
    with celery_broker(app, TEST_BROKER):
        app.control.purge()
        proc, log = _celery(
            ["worker", "--pool", "solo", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            tmp_path / "worker.log",
        )
        try:
            deadline = time.monotonic() + 60
            while not app.control.ping(timeout=1.0):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (tmp_path / "worker.log").read_text()
                    raise AssertionError("celery worker did not start:\n" + log_text)
            yield proc
        finally:
            stop_process(proc, log)


@pytest.mark.django_db(transaction=True)
def test_committed_batch_is_refreshed_by_a_real_worker(worker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Service dates inside the test database's monthly partitions: a transactional test must not leave new
    # partitions behind (ensure_month_partitions commits its DDL).
    (demo,) = generate_demo_files(tmp_path, files=1, claims_per_file=5, seed=2, as_of=dt.date.today())
    with override_settings(ANALYTICS_REFRESH_ON_COMMIT=True):
        result = batch_ingest(path=demo.path)
    trigger = f"ingest:batch {result.batch.id}"

    expected = len(REFRESHED_AFTER_BATCH) + len(SUMMARIES)
    deadline = time.monotonic() + 90
    while (
        RefreshLog.objects.filter(trigger=trigger).exclude(outcome=RefreshOutcome.RUNNING).count() < expected
    ):
        assert worker.poll() is None, "worker died"
        assert time.monotonic() < deadline, list(RefreshLog.objects.values_list("view", "outcome", "trigger"))
        time.sleep(0.5)

    logs = RefreshLog.objects.filter(trigger=trigger)
    assert {log.outcome for log in logs} == {RefreshOutcome.SUCCESS}
    assert {log.view for log in logs} == {
        *map(view_name, REFRESHED_AFTER_BATCH),
        *(summary.table for summary in SUMMARIES),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(claims) FROM analytics_revenue_monthly_mv")
        assert cursor.fetchone()[0] == 5
        cursor.execute("SELECT sum(claims) FROM analytics_claimsdailytotals")
        assert cursor.fetchone()[0] == 5


@pytest.mark.django_db(transaction=True)
def test_beat_sends_a_scheduled_refresh_that_the_worker_runs(worker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    # The real schedule runs every 5 minutes; the same task every 2 seconds shows beat -> broker -> worker.
    every, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="test: real-time views",
        task="analytics.tasks.refresh_view_group",
        args='["realtime"]',
        interval=every,
    )
    beat, log = _celery(
        [
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--loglevel",
            "INFO",
        ],
        tmp_path / "beat.log",
    )
    try:
        deadline = time.monotonic() + 60
        while RefreshLog.objects.filter(trigger="beat:realtime", outcome=RefreshOutcome.SUCCESS).count() < 2:
            assert beat.poll() is None, (tmp_path / "beat.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "beat.log").read_text()[-2000:]
            time.sleep(0.5)
    finally:
        stop_process(beat, log)

    views = set(RefreshLog.objects.filter(trigger="beat:realtime").values_list("view", flat=True))
    assert views == {"analytics_processing_realtime_mv", "analytics_queue_depth_daily_mv"}


def test_a_ping_on_the_settings_broker_first_does_not_blind_the_worker_fixture(
    request: pytest.FixtureRequest,
) -> None:
    """The app makes its pools at its first publish; a test that pinged the settings' broker earlier in the
    session once left every later fixture pinging there, where no test worker listens (all worker tests failed
    in a full run). ``tests.processes.celery_broker`` drops the pools when it switches brokers."""
    app.control.ping(timeout=0.5)
    proc = request.getfixturevalue("worker")  # raises when its ping on the test broker gets no answer
    assert proc.poll() is None
