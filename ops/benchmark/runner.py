"""Run the benchmark: every catalog query and admin page under both schemas, then ingest throughput.

Timing: ``time.perf_counter`` around ``execute`` + ``fetchall`` (for admin pages, around the whole test-client
request), in ms; ``warmup`` untimed runs first, then ``iterations`` timed runs, all of one schema, then the
other. After the timed runs, one ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` per query and schema says what
the plan did. Both schemas must give the same answer: the runner records the row count and a digest of the
rows (order-independent) for each, and the report flags any difference.

The schema is chosen with ``set_config('search_path', ...)`` on the session, from ``SCHEMA_PATHS`` only, and
checked by resolving ``claims_claim`` before anything is timed. The session's own search_path is put back
afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import platform
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from ops.benchmark.baseline import (
    BASELINE_SCHEMA,
    PLATFORM_SCHEMA,
    BaselineResult,
    baseline_tables,
    ensure_baseline,
    vacuum_analyze,
)
from ops.benchmark.catalog import ADMIN_REQUESTS, CATALOG, AdminRequest, CatalogQuery, Group, select
from ops.benchmark.ingest import IngestBench, IngestBenchError, run_ingest_benchmark
from ops.benchmark.params import BenchParams, pick_params
from ops.benchmark.plans import PlanSummary, explain_analyze, summarize

Schema = Literal["baseline", "platform"]
SCHEMAS: tuple[Schema, ...] = ("baseline", "platform")
# The only search paths the runner ever sets.
SCHEMA_PATHS: dict[Schema, str] = {
    "baseline": f"{BASELINE_SCHEMA}, {PLATFORM_SCHEMA}",
    "platform": PLATFORM_SCHEMA,
}
_SCHEMA_OF: dict[Schema, str] = {"baseline": BASELINE_SCHEMA, "platform": PLATFORM_SCHEMA}
# PostgreSQL settings that decide plans and timings, reported in the header.
PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
)
_RESULT_TBODY = re.compile(rb'<table id="result_list">.*?<tbody>(.*?)</tbody>', re.DOTALL)

Log = Callable[[str], None]


class SchemaSwitchError(Exception):
    """``claims_claim`` did not resolve to the schema the search_path was set for."""


class AdminPageError(Exception):
    """An admin page did not answer 200."""


@dataclass(frozen=True)
class BenchOptions:
    """What to run. ``only``: name substrings (empty = everything); sizes in claims."""

    iterations: int = 30
    warmup: int = 3
    only: tuple[str, ...] = ()
    skip_admin: bool = False
    skip_ingest: bool = False
    ingest_claims: int = 100_000
    validate_claims: int = 5_000
    rebuild_baseline: bool = False
    # VACUUM (ANALYZE) the public tables before timing. Off only in tests: statistics outlive the rows they
    # describe (TRUNCATE keeps pg_statistic), and would change the plans later tests on the database see.
    vacuum_platform: bool = True
    using: str = "default"


@dataclass(frozen=True)
class SchemaResult:
    """One query (or admin page) under one schema. Times in ms, 2 decimals; ``plan`` None for admin pages."""

    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float
    iterations: int
    rows: int  # rows fetched (admin: rows in the changelist table)
    digest: str  # sha256 prefix of the sorted rows (admin: of the listed rows' HTML)
    plan: PlanSummary | None = None
    sql_statements: int | None = None  # admin: SQL statements per request


@dataclass(frozen=True)
class QueryResult:
    name: str
    group: Group | Literal["admin"]
    title: str
    serves: str
    target: str  # SQL text, or the admin URL
    results: dict[Schema, SchemaResult]

    @property
    def ratio(self) -> float | None:
        """Baseline p50 / platform p50: how many times faster the platform answers (None if 0 ms)."""
        platform_p50 = self.results["platform"].p50_ms
        return round(self.results["baseline"].p50_ms / platform_p50, 1) if platform_p50 > 0 else None

    @property
    def same_answer(self) -> bool:
        baseline, platform_ = self.results["baseline"], self.results["platform"]
        return baseline.rows == platform_.rows and baseline.digest == platform_.digest


@dataclass(frozen=True)
class ServerEnvironment:
    cpu_count: int
    memory_gib: float  # MemTotal from /proc/meminfo
    system: str  # uname: system release machine
    python: str
    postgres_version: str  # server_version
    settings: dict[str, str]  # PG_SETTINGS -> current_setting()


@dataclass
class BenchmarkRun:
    """Everything one run measured; ``report`` turns it into JSON and markdown."""

    started_at: dt.datetime
    options: BenchOptions
    environment: ServerEnvironment
    database: str
    baseline: BaselineResult
    platform_vacuum_seconds: float
    params: BenchParams
    queries: list[QueryResult] = field(default_factory=list)
    admin: list[QueryResult] = field(default_factory=list)
    admin_note: str = ""
    ingest: IngestBench | None = None
    ingest_error: str = ""
    seconds: float = 0.0


# --- Statistics ------------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` by linear interpolation between closest ranks (numpy's default).

    Never below the median or above the maximum for q in [0.5, 1]. Raises ValueError on no samples.
    """
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _stats(samples_ms: Sequence[float]) -> tuple[float, float, float, float]:
    """(p50, p95, max, mean) in ms, 2 decimals."""
    return (
        round(percentile(samples_ms, 0.5), 2),
        round(percentile(samples_ms, 0.95), 2),
        round(max(samples_ms), 2),
        round(sum(samples_ms) / len(samples_ms), 2),
    )


def rows_digest(rows: Sequence[Sequence[Any]]) -> str:
    """First 16 hex digits of sha256 over the rows' reprs, sorted: equal for equal result multisets."""
    text = "\n".join(sorted(repr(tuple(row)) for row in rows))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- Sessions and environment ----------------------------------------------------------------------------


def resolved_schema(table: str, *, using: str = "default") -> str:
    """The schema an unqualified ``table`` resolves to on the session's search_path ("" if none)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = to_regclass(%s)
            """,
            [connection.ops.quote_name(table)],
        )
        row = cursor.fetchone()
    return str(row[0]) if row else ""


@contextmanager
def search_path(schema: Schema, *, using: str = "default") -> Iterator[None]:
    """Set the session's search_path to ``SCHEMA_PATHS[schema]`` for the block, then restore the previous one.

    Raises ``SchemaSwitchError`` if ``claims_claim`` then resolves to another schema. Session-level
    (``set_config(..., false)``), so it holds across the autocommit statements of the block.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('search_path', %s, false)", [SCHEMA_PATHS[schema]])
    try:
        found = resolved_schema("claims_claim", using=using)
        if found != _SCHEMA_OF[schema]:
            raise SchemaSwitchError(f"claims_claim resolves to {found!r} under the {schema} search_path")
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('search_path', %s, false)", [previous])


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def server_environment(*, using: str = "default") -> ServerEnvironment:
    """Cores, memory, OS, and the PostgreSQL version and ``PG_SETTINGS`` as the server reports them."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name",
            [["server_version", *PG_SETTINGS]],
        )
        values = dict(cursor.fetchall())
    uname = platform.uname()
    return ServerEnvironment(
        cpu_count=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        system=f"{uname.system} {uname.release} {uname.machine}",
        python=platform.python_version(),
        postgres_version=values.pop("server_version"),
        settings=values,
    )


# --- Catalog queries -------------------------------------------------------------------------------------


def time_query(
    sql: str, params: Mapping[str, Any], *, iterations: int, warmup: int, using: str = "default"
) -> tuple[list[float], list[Any]]:
    """Run ``sql`` ``warmup`` times untimed, then ``iterations`` times timed; (samples in ms, last rows)."""
    samples: list[float] = []
    rows: list[Any] = []
    with connections[using].cursor() as cursor:
        for _ in range(warmup):
            cursor.execute(sql, params)
            cursor.fetchall()
        for _ in range(iterations):
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    return samples, rows


def run_query(query: CatalogQuery, params: BenchParams, options: BenchOptions) -> QueryResult:
    """Time ``query`` and EXPLAIN it once under each schema."""
    every = params.query_params()
    values = {name: every[name] for name in query.param_names}
    results: dict[Schema, SchemaResult] = {}
    for schema in SCHEMAS:
        with search_path(schema, using=options.using):
            samples, rows = time_query(
                query.sql, values, iterations=options.iterations, warmup=options.warmup, using=options.using
            )
            plan = summarize(explain_analyze(query.sql, values, using=options.using), using=options.using)
        p50, p95, top, mean = _stats(samples)
        results[schema] = SchemaResult(
            p50_ms=p50,
            p95_ms=p95,
            max_ms=top,
            mean_ms=mean,
            iterations=len(samples),
            rows=len(rows),
            digest=rows_digest(rows),
            plan=plan,
        )
    return QueryResult(
        name=query.name,
        group=query.group,
        title=query.title,
        serves=query.serves,
        target=query.sql.strip(),
        results=results,
    )


# --- Admin pages -----------------------------------------------------------------------------------------


def admin_url(request: AdminRequest, params: BenchParams, *, redact: bool = False) -> str:
    """The page's path with its query string; parameter values come from ``params``.

    ``redact=True`` writes ``{field}`` in place of each picked value, for the reports: a search term can be a
    member's name or a claim number.
    """
    values = params.query_params()
    query = {
        key: ("{" + ref + "}" if redact else str(values[ref])) if kind == "param" else ref
        for key, (kind, ref) in request.query
    }
    # safe="{}" keeps the placeholders readable.
    return reverse(request.url_name) + (f"?{urlencode(query, safe='{}')}" if query else "")


def _listed_rows(content: bytes) -> tuple[int, str]:
    """Rows in the changelist's result table and a digest of their HTML ((0, digest of "") when none)."""
    match = _RESULT_TBODY.search(content)
    rows = re.findall(rb"<tr.*?</tr>", match.group(1), re.DOTALL) if match else []
    return len(rows), hashlib.sha256(b"\n".join(rows)).hexdigest()[:16]


def _time_page(client: Client, url: str, label: str, options: BenchOptions) -> SchemaResult:
    """Time GETs of ``url``; ``label`` names it in errors (the URL itself can hold a name or claim number)."""

    def get() -> bytes:
        response = client.get(url)
        if response.status_code != 200:
            raise AdminPageError(f"{label} answered HTTP {response.status_code}")
        return response.content

    for _ in range(options.warmup):
        get()
    samples: list[float] = []
    content = b""
    for _ in range(options.iterations):
        started = time.perf_counter()
        content = get()
        samples.append((time.perf_counter() - started) * 1000)
    # One more, untimed: capturing queries switches on the debug cursor, which would skew the timed runs.
    with CaptureQueriesContext(connections[options.using]) as captured:
        get()
    p50, p95, top, mean = _stats(samples)
    rows, digest = _listed_rows(content)
    return SchemaResult(
        p50_ms=p50,
        p95_ms=p95,
        max_ms=top,
        mean_ms=mean,
        iterations=len(samples),
        rows=rows,
        digest=digest,
        sql_statements=len(captured.captured_queries),
    )


def run_admin(
    requests: Sequence[AdminRequest], params: BenchParams, options: BenchOptions, *, log: Log
) -> list[QueryResult]:
    """Fetch each admin page through the test client as a throw-away superuser, under both schemas.

    The user is created for the run and deleted afterwards (with its session). Sessions and users stay in
    public under either search_path; only the benchmarked tables switch.
    """
    user_model = get_user_model()
    username = f"benchmark-{uuid.uuid4().hex[:12]}"
    user = user_model.objects.create_user(username=username, password=None, is_staff=True, is_superuser=True)
    client = Client()
    results: list[QueryResult] = []
    try:
        client.force_login(user)
        # The test client sends Host: testserver.
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            for request in requests:
                url = admin_url(request, params)
                per_schema: dict[Schema, SchemaResult] = {}
                for schema in SCHEMAS:
                    with search_path(schema, using=options.using):
                        per_schema[schema] = _time_page(client, url, request.name, options)
                        # The test client keeps Django from closing the connection between requests; make sure
                        # the pages really ran on this session's search_path.
                        if resolved_schema("claims_claim", using=options.using) != _SCHEMA_OF[schema]:
                            raise SchemaSwitchError(f"search_path lost during {request.name}")
                result = QueryResult(
                    name=request.name,
                    group="admin",
                    title=request.title,
                    serves="",
                    target=admin_url(request, params, redact=True),
                    results=per_schema,
                )
                log(_progress_line(result))
                results.append(result)
    finally:
        client.logout()
        user.delete()
    return results


# --- The whole run ---------------------------------------------------------------------------------------


def _progress_line(result: QueryResult) -> str:
    baseline, platform_ = result.results["baseline"], result.results["platform"]
    ratio = f"{result.ratio}x" if result.ratio is not None else "n/a"
    answer = "" if result.same_answer else "  ANSWERS DIFFER"
    return (
        f"{result.name}: baseline p50 {baseline.p50_ms} ms, platform p50 {platform_.p50_ms} ms ({ratio}), "
        f"rows {baseline.rows}/{platform_.rows}{answer}"
    )


def run_benchmark(
    options: BenchOptions, *, log: Log = lambda message: None, workdir: Path | None = None
) -> BenchmarkRun:
    """Build or reuse the baseline, pick parameters, time the catalog, the admin pages and ingest.

    ``workdir`` holds the ingest benchmark's generated files and logs (a temporary directory when None).
    Raises ``params.NoDataError`` without claims, ``SchemaSwitchError`` if a schema cannot be selected.
    """
    started = time.perf_counter()
    using = options.using
    # DEBUG would route every statement through Django's debug cursor (query log): same cost for both
    # schemas, but not what production runs.
    with override_settings(DEBUG=False):
        environment = server_environment(using=using)
        baseline = ensure_baseline(rebuild=options.rebuild_baseline, using=using)
        if baseline.reused:
            checked = f"checked in {baseline.fingerprint_seconds:.1f} s"
            log(f"baseline: reused {BASELINE_SCHEMA} ({baseline.reason}; {checked})")
        else:
            log(f"baseline: built {BASELINE_SCHEMA} in {baseline.build_seconds:.1f} s ({baseline.reason})")
        platform_vacuum = (
            vacuum_analyze(PLATFORM_SCHEMA, baseline_tables(), using=using)
            if options.vacuum_platform
            else 0.0
        )
        params = pick_params(using=using)
        run = BenchmarkRun(
            started_at=timezone.now(),
            options=options,
            environment=environment,
            database=str(connections[using].settings_dict["NAME"]),
            baseline=baseline,
            platform_vacuum_seconds=round(platform_vacuum, 2),
            params=params,
        )
        names = select(tuple(query.name for query in CATALOG), options.only)
        for query in CATALOG:
            if query.name in names:
                result = run_query(query, params, options)
                log(_progress_line(result))
                run.queries.append(result)

        admin_names = select(tuple(request.name for request in ADMIN_REQUESTS), options.only)
        if options.skip_admin:
            run.admin_note = "skipped (--skip-admin)"
        elif admin_names:
            chosen = [request for request in ADMIN_REQUESTS if request.name in admin_names]
            run.admin = run_admin(chosen, params, options, log=log)

        if not options.skip_ingest:
            # A failed ingest step must not throw away the query timings already taken: it is reported.
            # A temporary workdir is removed on success only, so a failure's logs can still be read.
            directory = workdir or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
            try:
                run.ingest = _ingest(options, directory, log)
            except IngestBenchError as exc:
                run.ingest_error = str(exc)
                log(f"ingest: FAILED: {exc}")
            else:
                if workdir is None:
                    shutil.rmtree(directory, ignore_errors=True)
    run.seconds = round(time.perf_counter() - started, 1)
    return run


def _ingest(options: BenchOptions, workdir: Path, log: Log) -> IngestBench:
    result = run_ingest_benchmark(
        claims=options.ingest_claims,
        validate_claims=options.validate_claims,
        workdir=workdir,
        using=options.using,
        log=log,
    )
    log(
        f"ingest: {result.claims_loaded:,} claims in {result.ingest_seconds} s "
        f"({result.claims_per_second:,.0f} claims/s); pyx12 {result.validate_claims_per_second:,.0f} claims/s"
    )
    return result
