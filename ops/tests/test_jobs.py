"""Cleanup under concurrent inserts, advisory locking, the task-run log, reindex and ANALYZE on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from claims.models import IngestBatch
from config.beat import SCHEDULES, sync_schedules
from ops import analyze, maintenance, reindex
from ops.cleanup import CleanupTarget
from ops.jobs import LOCK_NAMESPACE
from ops.models import TaskOutcome, TaskRun
from ops.tests.helpers import add_claims
from tests.owner import owner_execute

TASKRUN = (CleanupTarget("ops_taskrun", "started_at"),)
LATENCY_REPORT = Path(__file__).resolve().parents[2] / "var" / "cleanup_insert_latency.json"


def conninfo() -> str:
    s = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=s["NAME"],
        user=s["USER"],
        host=s["HOST"] or "",
        port=str(s["PORT"] or ""),
        password=s["PASSWORD"] or "",
    )


def seed_taskruns(expired: int, fresh: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ops_taskrun (job, started_at, rows_affected, outcome, error, dry_run, details)
            SELECT 'seed', now() - interval '200 days' + g * interval '1 second', 0, 'success', '', false, '{}'::jsonb
            FROM generate_series(1, %s) g
            UNION ALL
            SELECT 'seed', now() - interval '10 days' + g * interval '1 second', 0, 'success', '', false, '{}'::jsonb
            FROM generate_series(1, %s) g
            """,
            [expired, fresh],
        )


class Inserter(threading.Thread):
    """Inserts fresh task-run rows on its own connection as fast as it can, timing each insert."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.latencies: list[float] = []

    def run(self) -> None:
        with psycopg.connect(conninfo(), autocommit=True) as conn:
            while not self.stop.is_set():
                start = time.perf_counter()
                conn.execute(
                    "INSERT INTO ops_taskrun (job, started_at, rows_affected, outcome, error, dry_run, details) "
                    "VALUES ('inserter', now(), 0, 'success', '', false, '{}')"
                )
                self.latencies.append(time.perf_counter() - start)
                time.sleep(0.002)


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])  # VACUUM is the owner's
def test_cleanup_deletes_expired_rows_in_batches_without_blocking_inserts() -> None:
    seed_taskruns(expired=50_000, fresh=5_000)
    inserter = Inserter()
    inserter.start()
    try:
        time.sleep(0.2)
        run = maintenance.cleanup_expired(targets=TASKRUN, retention_days=90, batch_size=5_000, pause_s=0.1)
        time.sleep(0.2)
    finally:
        inserter.stop.set()
        inserter.join(timeout=10)

    latencies = sorted(inserter.latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    LATENCY_REPORT.parent.mkdir(exist_ok=True)
    LATENCY_REPORT.write_text(
        json.dumps(
            {"inserts": len(latencies), "max_ms": latencies[-1] * 1000, "p99_ms": p99 * 1000}, indent=1
        )
    )
    print(
        f"\ninsert latency during cleanup: {len(latencies)} inserts, "
        f"max {latencies[-1] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )
    assert run.outcome == TaskOutcome.SUCCESS, run.error
    assert run.rows_affected == 50_000
    assert run.details["ops_taskrun"] == {
        "deleted": 50_000,
        "batches": 11,
        "lock_failures": 0,
        "vacuumed": True,
    }
    assert len(latencies) > 50
    assert latencies[-1] < 1.0
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
    assert TaskRun.objects.filter(started_at__lt=cutoff).count() == 0
    # Nothing inside the window went: the fresh seed, every insert, and the cleanup's own run row.
    assert TaskRun.objects.filter(job="seed").count() == 5_000
    assert TaskRun.objects.filter(job="inserter").count() == len(latencies)
    assert TaskRun.objects.filter(job="cleanup_expired").count() == 1


@pytest.fixture
def lock_held_elsewhere() -> Iterator[None]:
    with psycopg.connect(conninfo(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [LOCK_NAMESPACE + maintenance.JOB_CLEANUP])
        yield


@pytest.mark.django_db(transaction=True)
def test_a_second_run_is_skipped_while_another_holds_the_jobs_advisory_lock(
    lock_held_elsewhere: None,
) -> None:
    seed_taskruns(expired=10, fresh=0)

    run = maintenance.cleanup_expired(targets=TASKRUN, retention_days=90)

    assert run.outcome == TaskOutcome.SKIPPED
    assert run.rows_affected == 0
    assert TaskRun.objects.filter(job="seed").count() == 10


@pytest.mark.django_db(transaction=True)
def test_dry_run_reports_the_plan_and_deletes_nothing() -> None:
    seed_taskruns(expired=7, fresh=3)

    run = maintenance.cleanup_expired(dry_run=True, targets=TASKRUN, retention_days=90)

    assert run.dry_run and run.outcome == TaskOutcome.SUCCESS
    assert run.details["plan"][0].startswith("delete 7 rows of ops_taskrun with started_at < ")
    assert TaskRun.objects.filter(job="seed").count() == 10


@pytest.fixture
def bloated_table(transactional_db: None) -> Iterator[str]:
    owner_execute(  # a scratch table is the owner's (tests/owner.py)
        "DROP TABLE IF EXISTS ops_bloat_probe",
        "CREATE TABLE ops_bloat_probe (id bigint PRIMARY KEY, v text)",
        "INSERT INTO ops_bloat_probe SELECT g, md5(g::text) FROM generate_series(1, 50000) g",
        "DELETE FROM ops_bloat_probe WHERE id % 10 <> 0",
        "VACUUM ops_bloat_probe",
    )
    yield "ops_bloat_probe"
    owner_execute("DROP TABLE IF EXISTS ops_bloat_probe")


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])  # REINDEX is the owner's
def test_bloated_index_is_rebuilt_concurrently_once(bloated_table: str) -> None:
    before = reindex.index_bloat(min_bytes=0, tables=[bloated_table])

    run = maintenance.reindex_bloated(threshold_pct=30, min_bytes=0, tables=[bloated_table])
    again = maintenance.reindex_bloated(threshold_pct=30, min_bytes=0, tables=[bloated_table])

    assert [(b.index, b.bloat_pct > 30) for b in before] == [("ops_bloat_probe_pkey", True)]
    assert run.outcome == TaskOutcome.SUCCESS, run.error
    assert run.details["reindexed"] == ["ops_bloat_probe_pkey"]
    (after,) = reindex.index_bloat(min_bytes=0, tables=[bloated_table])
    assert after.bloat_pct < 30 and after.bytes < before[0].bytes
    assert again.rows_affected == 0 and again.details["plan"] == ["nothing to do"]


@pytest.mark.django_db
def test_analyze_after_load_targets_the_batchs_month_partitions_only_past_the_threshold() -> None:
    claims = add_claims([dt.date.today().replace(day=2)], lines=1)
    batch = IngestBatch.objects.create(file_name="f", sha256="a" * 64, size_bytes=1, claim_count=1)
    claims[0].batch = batch
    claims[0].save(update_fields=["batch"])
    month = claims[0].service_date_from

    planned = analyze.analyze_plan(batch_id=batch.pk, min_claims=1)
    skipped = analyze.analyze_plan(batch_id=batch.pk, min_claims=2)

    suffix = f"p{month.year}_{month.month:02d}"
    assert planned == [f"claims_claimline_{suffix}", f"claims_claim_{suffix}"]
    assert skipped == []
    assert analyze.analyze_tables(planned) == planned
    run = maintenance.analyze_after_load(batch_id=batch.pk, min_claims=1)
    assert run.outcome == TaskOutcome.SUCCESS and run.details["analyzed"] == planned


@pytest.mark.django_db
def test_sync_schedules_includes_the_maintenance_jobs() -> None:
    from django_celery_beat.models import PeriodicTask

    sync_schedules()

    ops = {s.name: s.task for s in SCHEDULES if s.task.startswith("ops.tasks.")}
    assert ops == {
        "ops: partition maintenance": "ops.tasks.partitions_maintain",
        "ops: cleanup expired rows": "ops.tasks.cleanup_expired",
        "ops: reindex bloated indexes": "ops.tasks.reindex_bloated",
    }
    assert set(
        PeriodicTask.objects.filter(task__startswith="ops.tasks.").values_list("name", flat=True)
    ) == set(ops)
