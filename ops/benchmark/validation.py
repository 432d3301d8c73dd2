"""Validation throughput in parts: pyx12 on a generated 837P split into parts (``claims.x12.split``) and
validated by real Celery workers, one worker process, then two.

For each worker count a worker is started (``celery -A config worker -c N``) on a queue of its own, so a
developer's worker on the same broker takes none of the parts; its results go to the configured result backend
(the benchmarked database's ``django_celery_results`` table; the rows are deleted afterwards). The time is wall
time from planning the file (one streaming read) to the merged report, as ``batch_validate`` would see it;
worker start-up is not counted. "Per worker" is the rate divided by the worker processes: on a machine with
fewer free cores than workers it falls, and says so. The figures are indicative on a shared machine: other
work on its cores changes them from run to run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connections
from django_celery_results.models import TaskResult

from claims.services.validation import validation_chord_send
from claims.x12.split import plan_parts
from ops.benchmark.ingest import database_url
from ops.synthetic.x12_files import generate_demo_files

# The ingest benchmark's seed: the same kind of file.
VALIDATION_SEED = 7
VALIDATION_CLAIMS = 30_000
# 12 parts of ~2,500 claims for 30,000: whole rounds for 1 and 2 workers, each part ~5 s of pyx12, so its
# fixed ~0.12 s (map loading) stays small.
VALIDATION_PART_CLAIMS = 2_500
WORKER_START_SECONDS = 120.0


class ValidationBenchError(Exception):
    """A worker did not start, or the chord did not finish in time; the message names the log file."""


@dataclass(frozen=True)
class WorkerRun:
    """One worker count: wall seconds from plan to merged report, claims/s, claims/s per worker process."""

    workers: int
    seconds: float
    claims_per_second: float
    claims_per_second_per_worker: float
    outcome: str
    errors: int


@dataclass(frozen=True)
class ValidationBench:
    """The generated file, how it was split, and one ``WorkerRun`` per worker count."""

    claims: int
    file_mb: float
    part_claims: int
    parts: int
    plan_seconds: float
    cpu_count: int
    runs: list[WorkerRun] = field(default_factory=list)


def _start_worker(queue: str, name: str, concurrency: int, log_path: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "config",
        "worker",
        "-c",
        str(concurrency),
        "-Q",
        queue,
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    ]
    # The worker writes its results where this process reads them: this connection's database, this broker.
    env = {
        **os.environ,
        "DATABASE_URL": database_url(str(connections["default"].settings_dict["NAME"])),
        "REDIS_URL": str(current_app.conf.broker_url),
    }
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_ready(process: subprocess.Popen[bytes], name: str, log_path: Path) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while not current_app.control.ping(destination=[name], timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ValidationBenchError(f"celery worker {name} did not start; output in {log_path}")


def _forget(result: Any) -> None:
    """Delete the chord's rows from the result backend (the benchmark leaves the database as it found it)."""
    ids = [result.id, *(child.id for child in getattr(result.parent, "results", None) or [])]
    try:
        TaskResult.objects.filter(task_id__in=ids).delete()
    except DatabaseError:
        pass  # a role that may not delete them: they expire with the backend's own clean-up


def run_validation_benchmark(
    *,
    workdir: Path,
    claims: int = VALIDATION_CLAIMS,
    part_claims: int = VALIDATION_PART_CLAIMS,
    worker_counts: Sequence[int] = (1, 2),
    timeout: float = 3600.0,
    log: Callable[[str], None] = lambda message: None,
) -> ValidationBench:
    """Generate a ``claims``-claim 837P in ``workdir`` and time its validation in parts of ~``part_claims``
    claims on a worker with each of ``worker_counts`` processes (module docstring).

    Raises ``ValidationBenchError`` when a worker does not start or a run does not finish in ``timeout``
    seconds (the worker is stopped in any case); the worker's output is in ``workdir``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (demo,) = generate_demo_files(workdir, files=1, claims_per_file=claims, seed=VALIDATION_SEED)
    started = time.perf_counter()
    plan = plan_parts(demo.path, part_claims=part_claims)
    plan_seconds = time.perf_counter() - started
    bench = ValidationBench(
        claims=demo.claims,
        file_mb=round(demo.size_bytes / 1e6, 1),
        part_claims=part_claims,
        parts=len(plan.parts),
        plan_seconds=round(plan_seconds, 2),
        cpu_count=os.cpu_count() or 0,
    )
    log(
        f"validation: {demo.claims:,} claims ({bench.file_mb} MB) in {bench.parts} parts of ~{part_claims:,} "
        f"claims (planned in {bench.plan_seconds} s); {bench.cpu_count} cores"
    )
    for workers in worker_counts:
        # A fixed name per worker count: the broker keeps a binding per queue name ever used.
        queue = f"validation-bench-{workers}"
        name = f"{queue}-{os.getpid()}@{socket.gethostname()}"
        log_path = workdir / f"worker-{workers}.log"
        process = _start_worker(queue, name, workers, log_path)
        try:
            _wait_ready(process, name, log_path)
            started = time.perf_counter()
            plan = plan_parts(demo.path, part_claims=part_claims)
            result = validation_chord_send(path=demo.path.resolve(), plan=plan, queue=queue)
            try:
                summary = result.get(timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - a timeout or a failed merge: reported, not raised raw
                raise ValidationBenchError(
                    f"{workers} worker(s): {type(exc).__name__}; see {log_path}"
                ) from exc
            seconds = time.perf_counter() - started
            _forget(result)
        finally:
            _stop(process)
        rate = demo.claims / seconds
        run = WorkerRun(
            workers=workers,
            seconds=round(seconds, 2),
            claims_per_second=round(rate, 1),
            claims_per_second_per_worker=round(rate / workers, 1),
            outcome=summary["outcome"],
            errors=summary["errors"],
        )
        bench.runs.append(run)
        log(
            f"validation claims/s, {workers} worker{'s' if workers > 1 else ''}: {run.claims_per_second:,.0f} "
            f"({run.seconds} s), per worker {run.claims_per_second_per_worker:,.0f}; outcome {run.outcome}"
        )
    log(
        "validation: indicative only: the cores are shared with whatever else runs on this machine, and "
        "per-worker rates fall when workers outnumber free cores"
    )
    return bench


def run_validation_section(*, workdir: Path, log: Callable[[str], None]) -> ValidationBench | None:
    """The benchmark runner's section: ``run_validation_benchmark`` with its defaults; a failure is logged
    (``validation: FAILED ...``) and gives None, so the timings already taken are kept."""
    try:
        return run_validation_benchmark(workdir=workdir, log=log)
    except ValidationBenchError as exc:
        log(f"validation: FAILED: {exc}")
        return None
