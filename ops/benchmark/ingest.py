"""Ingest throughput: ``ingest_837 --no-validate`` in a scratch database, and pyx12 validation beside it.

The benchmarked database never receives these claims: a scratch database ``<dbname>_ingest_bench`` is created
empty, migrated and partitioned, the generated file is loaded by a separate ``manage.py ingest_837`` process
(``DATABASE_URL`` pointing at the scratch database), and the scratch database is dropped afterwards, also on
failure. The rate is claims / wall time of that process, Python start-up and Django set-up included, as an
operator running the command would see it (README "Ingest" measures the same way).

Validation runs in this process on its own (smaller) file: pyx12 is the slow step, ~500 claims/s.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from claims.x12.validation import validate_837
from ops.synthetic.x12_files import generate_demo_files

SCRATCH_SUFFIX = "_ingest_bench"
# The README's 100,000-claim measurement used this seed; the same file makes the figures comparable.
INGEST_SEED = 7
_SUMMARY = re.compile(r"files \d+, claims (\d+)")


class IngestBenchError(Exception):
    """A step of the ingest benchmark failed; the message names the step and the log file."""


@dataclass(frozen=True)
class IngestBench:
    """Ingest and validation rates. Seconds are wall time; RSS in MiB (the ingest process's peak)."""

    scratch_database: str
    claims: int  # claims in the generated file
    lines: int
    file_mb: float
    generate_seconds: float
    setup_seconds: float  # create database + migrate + partitions_maintain (not part of the rate)
    ingest_seconds: float
    claims_loaded: int  # as the ingest command reported
    claims_per_second: float
    peak_rss_mib: float
    validate_claims: int
    validate_seconds: float
    validate_claims_per_second: float
    validate_outcome: str  # pyx12's 999 outcome for the file (accepted / accepted_with_errors / rejected)
    claims_on_file: int = (
        0  # claims already in the database loaded into (a copy of the benchmarked one, or 0)
    )
    small_claims: int = (
        0  # a second, smaller file loaded the same way, to show peak RSS does not grow with size
    )
    small_seconds: float = 0.0
    small_claims_per_second: float = 0.0
    small_peak_rss_mib: float = 0.0


def scratch_database_name(*, using: str = "default") -> str:
    """``<benchmarked database>_ingest_bench``; PostgreSQL truncates identifiers at 63 bytes, so must we."""
    return (str(connections[using].settings_dict["NAME"]) + SCRATCH_SUFFIX)[-63:]


def database_url(name: str, *, using: str = "default") -> str:
    """A ``DATABASE_URL`` for database ``name`` on the same server, role and password as ``using``."""
    config = connections[using].settings_dict
    user = quote(str(config.get("USER") or ""), safe="")
    password = quote(str(config.get("PASSWORD") or ""), safe="")
    host = quote(str(config.get("HOST") or ""), safe="")  # a socket directory is percent-encoded
    port = str(config.get("PORT") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{credentials}{host}{':' + port if port else ''}/{quote(name, safe='')}"


def _drop_database(name: str, *, using: str) -> None:
    quote_name = connections[using].ops.quote_name
    with connections[using].cursor() as cursor:
        # FORCE (PostgreSQL 13+) ends a connection a killed child may have left behind.
        cursor.execute(f"DROP DATABASE IF EXISTS {quote_name(name)} WITH (FORCE)")


def _copy_database(name: str, *, using: str) -> int:
    """Create ``name`` as a file copy of the benchmarked database (``CREATE DATABASE ... TEMPLATE ... STRATEGY
    FILE_COPY``, PostgreSQL 15); returns the claims it holds. The source may have no other session meanwhile, so
    this process closes its own; another one (a running server or worker) makes it fail with a message."""
    config = connections[using].settings_dict
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM claims_claim")
        (claims,) = cursor.fetchone()
    connections.close_all()
    source = str(config["NAME"])
    conninfo = database_url("postgres", using=using)
    try:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(source)
                )
            )
    except psycopg.errors.ObjectInUse as exc:
        raise IngestBenchError(
            f"cannot copy {source}: other sessions use it (stop make serve / the Celery worker): {exc}"
        ) from exc
    return int(claims)


def _create_database(name: str, *, using: str) -> None:
    quote_name = connections[using].ops.quote_name
    with connections[using].cursor() as cursor:
        # From the template with the extensions only a superuser may create (ops.roles.template_ensure).
        cursor.execute(
            f"CREATE DATABASE {quote_name(name)} TEMPLATE {quote_name(settings.DATABASE_TEMPLATE)}"
        )


def _manage(args: list[str], *, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run ``manage.py <args>``; returns (wall seconds, peak RSS MiB). Raises IngestBenchError on failure."""
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )
        # wait4 rather than wait: it returns this child's own resource usage (peak RSS in KiB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise IngestBenchError(f"manage.py {args[0]} exited {process.returncode}; output in {log}")
    return seconds, usage.ru_maxrss / 1024


def run_ingest_benchmark(
    *,
    claims: int,
    validate_claims: int,
    workdir: Path,
    small_claims: int = 0,
    onto_copy: bool = False,
    using: str = "default",
    log: Callable[[str], None] = lambda message: None,
) -> IngestBench:
    """Generate a ``claims``-claim 837P, time its load into a scratch database, time pyx12 on a smaller file.

    The scratch database is empty (created, migrated, partitioned) or, with ``onto_copy``, a file copy of the
    benchmarked database, so the load meets the claims already on file (issue 11: a 1,000,000-claim file into a
    database of 10,000,000). ``small_claims`` > 0 loads a second, smaller file the same way after the big one, so
    the report shows peak RSS for both sizes. ``workdir`` receives the generated files and the child processes'
    output. Raises ``IngestBenchError`` when a step fails (the scratch database is dropped in any case).
    """
    started = time.perf_counter()
    (ingest_file,) = generate_demo_files(
        workdir / "ingest", files=1, claims_per_file=claims, seed=INGEST_SEED
    )
    small_file = None
    if small_claims:
        (small_file,) = generate_demo_files(
            workdir / "ingest_small", files=1, claims_per_file=small_claims, seed=INGEST_SEED + 1
        )
    generate_seconds = time.perf_counter() - started
    log(f"ingest: generated {ingest_file.claims:,} claims ({ingest_file.size_bytes / 1e6:.1f} MB)")

    scratch = scratch_database_name(using=using)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(scratch, using=using),
        # A committed batch queues an analytics refresh (Celery); a running worker would execute it against
        # its own database, not the scratch one. The refresh is asynchronous, so not part of the load anyway.
        "ANALYTICS_REFRESH_ON_COMMIT": "false",
    }
    _drop_database(scratch, using=using)
    on_file = 0
    small: tuple[float, float] = (0.0, 0.0)
    try:
        started = time.perf_counter()
        if onto_copy:
            on_file = _copy_database(scratch, using=using)
        else:
            _create_database(scratch, using=using)
        _manage(["migrate", "--no-input", "-v0"], env=env, log=workdir / "migrate.log")
        _manage(["partitions_maintain", "--yes"], env=env, log=workdir / "partitions.log")
        setup_seconds = time.perf_counter() - started
        log(
            f"ingest: scratch database {scratch} ({on_file:,} claims) ready in {setup_seconds:.1f} s; loading"
        )
        ingest_log = workdir / "ingest_837.log"
        ingest_seconds, peak_rss = _manage(
            ["ingest_837", "--no-validate", "--no-progress", str(ingest_file.path)], env=env, log=ingest_log
        )
        if small_file is not None:
            small = _manage(
                ["ingest_837", "--no-validate", "--no-progress", str(small_file.path)],
                env=env,
                log=workdir / "ingest_837_small.log",
            )
    finally:
        _drop_database(scratch, using=using)
    summary = _SUMMARY.search(ingest_log.read_text(errors="replace"))
    if summary is None:
        raise IngestBenchError(f"ingest_837 printed no summary line; output in {ingest_log}")
    loaded = int(summary.group(1))

    (validate_file,) = generate_demo_files(
        workdir / "validate", files=1, claims_per_file=validate_claims, seed=INGEST_SEED
    )
    log(f"ingest: validating {validate_file.claims:,} claims with pyx12")
    started = time.perf_counter()
    report = validate_837(validate_file.path)
    validate_seconds = time.perf_counter() - started

    return IngestBench(
        scratch_database=scratch,
        claims=ingest_file.claims,
        lines=ingest_file.lines,
        file_mb=round(ingest_file.size_bytes / 1e6, 1),
        generate_seconds=round(generate_seconds, 2),
        setup_seconds=round(setup_seconds, 2),
        ingest_seconds=round(ingest_seconds, 2),
        claims_loaded=loaded,
        claims_per_second=round(loaded / ingest_seconds, 1),
        peak_rss_mib=round(peak_rss, 1),
        validate_claims=validate_file.claims,
        validate_seconds=round(validate_seconds, 2),
        validate_claims_per_second=round(validate_file.claims / validate_seconds, 1),
        validate_outcome=report.outcome,
        claims_on_file=on_file,
        small_claims=small_file.claims if small_file is not None else 0,
        small_seconds=round(small[0], 2),
        small_claims_per_second=round(small_file.claims / small[0], 1) if small_file is not None else 0.0,
        small_peak_rss_mib=round(small[1], 1),
    )
