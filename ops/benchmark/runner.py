"""Run the benchmark: the analytics refresh paths, every catalog query under both schemas (and the analytics
queries from the views), the analytics pages, the admin pages under both schemas, then ingest throughput.

Timing: ``time.perf_counter`` around ``execute`` + ``fetchall`` (for pages, around the whole test-client
request), in ms; ``warmup`` untimed runs first, then ``iterations`` timed runs, all of one schema, then the
other. After the timed runs, one ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` per query and schema says what
the plan did. Both schemas must give the same answer: the runner records the row count and a digest of the
rows (order-independent) for each, and the report flags any difference. An analytics query's view variant
(``catalog.ViewVariant``) runs under ``search_path = public`` after the platform run; its answer is compared
with the platform's on every column but the variant's ``unanswered`` ones, numbers by value.

The refresh section runs first, so the view variants and pages read views refreshed moments before (and
vacuumed with the tables they come from, unless ``--no-vacuum``).

The schema is chosen with ``set_config('search_path', ...)`` on the session, from ``SCHEMA_PATHS`` only, and
checked by resolving ``claims_claim`` before anything is timed. The session's own search_path is put back
afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlencode

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from analytics.services.refresh import ALL_VIEWS, view_name
from analytics.services.summaries import SUMMARIES
from ops.benchmark.baseline import (
    BASELINE_SCHEMA,
    PLATFORM_SCHEMA,
    BaselineResult,
    baseline_tables,
    ensure_baseline,
    vacuum_analyze,
)
from ops.benchmark.catalog import ADMIN_REQUESTS, CATALOG, AdminRequest, CatalogQuery, Group, select
from ops.benchmark.decisions import DecisionsBench, run_decisions
from ops.benchmark.ingest import IngestBench, IngestBenchError, run_ingest_benchmark
from ops.benchmark.pages import PagesBench, analytics_pages, run_pages, superuser_client
from ops.benchmark.params import BenchParams, pick_params
from ops.benchmark.refresh import RefreshBench, run_refresh
from ops.benchmark.stats import percentile as percentile  # re-exported: tests and callers import it from here
from ops.benchmark.validation import ValidationBench, run_validation_section
from ops.platform.plans import PlanSummary, explain_analyze, summarize

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
    skip_refresh: bool = False
    skip_pages: bool = False
    skip_adjudicate: bool = False
    skip_835: bool = False
    skip_examiner: bool = False
    skip_work_queue: bool = False
    adjudicate_claims: int = 100_000
    examiner_actions: int = 20
    ingest_claims: int = 100_000
    ingest_small_claims: int = 0  # > 0: a second, smaller file too (peak RSS at two sizes)
    ingest_onto_copy: bool = False  # load into a copy of the benchmarked database, not an empty one
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
class ViewResult:
    """An analytics query's view variant, timed under the platform schema and compared with the platform's rows.

    The digests cover every column but ``unanswered``, numbers compared by value (``answer_digest``).
    """

    sql: str
    reads: tuple[str, ...]
    measured: SchemaResult
    comparable: bool
    unanswered: tuple[str, ...]
    note: str
    columns_match: bool  # the same column names in the same order as the base query
    digest: str  # of the view's rows, ``unanswered`` left out
    base_digest: str  # of the platform's rows, the same columns left out
    base_rows: int

    @property
    def same_answer(self) -> bool | None:
        """True when the compared columns agree row for row; None when the variant is not comparable."""
        if not self.comparable:
            return None
        return self.columns_match and self.measured.rows == self.base_rows and self.digest == self.base_digest


@dataclass(frozen=True)
class QueryResult:
    name: str
    group: Group | Literal["admin"]
    title: str
    serves: str
    target: str  # SQL text, or the admin URL
    results: dict[Schema, SchemaResult]
    view: ViewResult | None = None

    @property
    def ratio(self) -> float | None:
        """Baseline p50 / platform p50: how many times faster the platform answers (None if 0 ms)."""
        platform_p50 = self.results["platform"].p50_ms
        return round(self.results["baseline"].p50_ms / platform_p50, 1) if platform_p50 > 0 else None

    @property
    def view_ratio(self) -> float | None:
        """Platform p95 / view p95: how many times faster the views answer (None without a view or if 0 ms)."""
        if self.view is None or self.view.measured.p95_ms <= 0:
            return None
        return round(self.results["platform"].p95_ms / self.view.measured.p95_ms, 1)

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
    cpu_model: str = ""  # /proc/cpuinfo "model name"
    # Host speed, so runs on different hosts of the same kind can be compared: a fixed pure-Python loop and a
    # fixed server-side count, ms (best of 3). The same code measured 3,736 and 6,500 claims/s on two 2-core
    # hosts of one kind; generation took 249 s and 133 s on them.
    calibration_python_ms: float = 0.0
    calibration_postgres_ms: float = 0.0


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
    refresh: RefreshBench | None = None
    refresh_note: str = ""
    analytics_vacuum_seconds: float = 0.0
    pages: PagesBench | None = None
    pages_note: str = ""
    decisions: DecisionsBench | None = None
    ingest: IngestBench | None = None
    ingest_error: str = ""
    validation: ValidationBench | None = None
    seconds: float = 0.0

    @property
    def views_refreshed(self) -> bool:
        """Every view and summary was refreshed by this run: a view variant's answer can be held to the tables'."""
        return self.refresh is not None and all(phase.succeeded for phase in self.refresh.phases)


# --- Statistics ------------------------------------------------------------------------------------------


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


def _by_value(value: Any) -> Any:
    # A count is bigint from COUNT(*) but numeric from SUM() over a view's counts, and a sum of money can
    # carry a different scale (12.5 / 12.50): numbers are compared by value.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return value
    return Decimal(value).normalize() if value else Decimal(0)


def answer_digest(rows: Sequence[Sequence[Any]], columns: Sequence[str], leave_out: Sequence[str]) -> str:
    """``rows_digest`` of ``rows`` without the ``leave_out`` columns, numbers by value (an int, 12.5 = 12.50)."""
    keep = [index for index, column in enumerate(columns) if column not in leave_out]
    return rows_digest([tuple(_by_value(row[index]) for index in keep) for row in rows])


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
        cpu_model=_cpu_model(),
        calibration_python_ms=_best_of(3, _python_loop),
        calibration_postgres_ms=_best_of(3, lambda: _postgres_count(using)),
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``work``, ms."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, (time.perf_counter() - started) * 1000)
    return round(best, 1)


def _python_loop() -> int:
    return sum(i * i for i in range(2_000_000))


def _postgres_count(using: str) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 2000000)")
        cursor.fetchone()


# --- Catalog queries -------------------------------------------------------------------------------------


class Timed(NamedTuple):
    samples: list[float]  # ms
    rows: list[Any]  # of the last run
    columns: tuple[str, ...]


def time_query(
    sql: str, params: Mapping[str, Any], *, iterations: int, warmup: int, using: str = "default"
) -> Timed:
    """Run ``sql`` ``warmup`` times untimed, then ``iterations`` times timed; samples, last rows, column names."""
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
        columns = tuple(column.name for column in cursor.description or ())
    return Timed(samples, rows, columns)


def _measure(sql: str, values: Mapping[str, Any], options: BenchOptions) -> tuple[SchemaResult, Timed]:
    """Time ``sql`` and EXPLAIN it once on the session's current search_path."""
    timed = time_query(sql, values, iterations=options.iterations, warmup=options.warmup, using=options.using)
    plan = summarize(explain_analyze(sql, values, using=options.using), using=options.using)
    p50, p95, top, mean = _stats(timed.samples)
    result = SchemaResult(
        p50_ms=p50,
        p95_ms=p95,
        max_ms=top,
        mean_ms=mean,
        iterations=len(timed.samples),
        rows=len(timed.rows),
        digest=rows_digest(timed.rows),
        plan=plan,
    )
    return result, timed


def run_query(query: CatalogQuery, params: BenchParams, options: BenchOptions) -> QueryResult:
    """Time ``query`` and EXPLAIN it once under each schema, then its view variant (if any) under public."""
    every = params.query_params()
    values = {name: every[name] for name in query.param_names}
    results: dict[Schema, SchemaResult] = {}
    platform_run: Timed | None = None
    for schema in SCHEMAS:
        with search_path(schema, using=options.using):
            results[schema], timed = _measure(query.sql, values, options)
        if schema == "platform":
            platform_run = timed
    view_result = None
    if query.view is not None and platform_run is not None:
        variant = query.view
        view_values = {name: every[name] for name in variant.param_names}
        with search_path("platform", using=options.using):
            measured, view_run = _measure(variant.sql, view_values, options)
        view_result = ViewResult(
            sql=variant.sql.strip(),
            reads=variant.reads,
            measured=measured,
            comparable=variant.comparable,
            unanswered=variant.unanswered,
            note=variant.note,
            columns_match=view_run.columns == platform_run.columns,
            digest=answer_digest(view_run.rows, view_run.columns, variant.unanswered),
            base_digest=answer_digest(platform_run.rows, platform_run.columns, variant.unanswered),
            base_rows=len(platform_run.rows),
        )
    return QueryResult(
        name=query.name,
        group=query.group,
        title=query.title,
        serves=query.serves,
        target=query.sql.strip(),
        results=results,
        view=view_result,
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
    results: list[QueryResult] = []
    with superuser_client(using=options.using) as client:
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
    return results


# --- The whole run ---------------------------------------------------------------------------------------


def _progress_line(result: QueryResult) -> str:
    baseline, platform_ = result.results["baseline"], result.results["platform"]
    ratio = f"{result.ratio}x" if result.ratio is not None else "n/a"
    answer = "" if result.same_answer else "  ANSWERS DIFFER"
    line = (
        f"{result.name}: baseline p50 {baseline.p50_ms} ms, platform p50 {platform_.p50_ms} ms ({ratio}), "
        f"rows {baseline.rows}/{platform_.rows}{answer}"
    )
    if result.view is not None:
        view_ratio = f"{result.view_ratio}x" if result.view_ratio is not None else "n/a"
        agreed = {True: "", False: "  VIEW ANSWER DIFFERS", None: " (not comparable)"}[
            result.view.same_answer
        ]
        line += f"; views p95 {result.view.measured.p95_ms} ms ({view_ratio} of platform p95){agreed}"
    return line


def analytics_tables() -> tuple[str, ...]:
    """Every materialized view (``ALL_VIEWS``) and summary table (``SUMMARIES``) the view variants can read."""
    return (*(view_name(view) for view in ALL_VIEWS), *(summary.table for summary in SUMMARIES))


def run_benchmark(
    options: BenchOptions, *, log: Log = lambda message: None, workdir: Path | None = None
) -> BenchmarkRun:
    """Build or reuse the baseline, pick parameters, time the refresh paths, the catalog (and its view
    variants), the analytics pages, the admin pages, adjudication, examiner actions, the work queue and 835s (in
    one rolled-back transaction: ``decisions``) and ingest.

    ``workdir`` holds the ingest benchmark's generated files and logs (a temporary directory when None).
    Raises ``params.NoDataError`` without claims, ``SchemaSwitchError`` if a schema cannot be selected,
    ``pages.PageError`` if an analytics page does not answer 200, ``decisions.DecisionsError`` if the work queue
    does not or there is nothing to adjudicate, ``DatabaseError`` if a summary refresh fails.
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
        if options.skip_refresh:
            run.refresh_note = "skipped (--skip-refresh): the views and summaries are read as last refreshed"
        else:
            run.refresh = run_refresh(vacuum=options.vacuum_platform, using=using, log=log)
        if options.vacuum_platform:
            # As for the claim tables: a refresh leaves dead rows and no visibility map behind it.
            run.analytics_vacuum_seconds = round(
                vacuum_analyze(PLATFORM_SCHEMA, analytics_tables(), using=using), 2
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

        pages = [page for page in analytics_pages() if page.name in select(_page_names(), options.only)]
        if options.skip_pages:
            run.pages_note = "skipped (--skip-pages)"
        elif pages:
            run.pages = run_pages(
                pages, iterations=options.iterations, warmup=options.warmup, using=using, log=log
            )

        if not (
            options.skip_adjudicate and options.skip_835 and options.skip_examiner and options.skip_work_queue
        ):
            # One transaction, rolled back: the database is left as found.
            run.decisions = run_decisions(
                params,
                adjudicate=not options.skip_adjudicate,
                remit=not options.skip_835,
                examiner=not options.skip_examiner,
                work_queue=not options.skip_work_queue,
                adjudicate_claims=options.adjudicate_claims,
                actions=options.examiner_actions,
                iterations=options.iterations,
                warmup=options.warmup,
                using=using,
                log=log,
            )

        if not options.skip_ingest:
            # A failed ingest step must not throw away the query timings already taken: it is reported.
            # A temporary workdir is removed on success only, so a failure's logs can still be read.
            directory = workdir or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
            # pyx12 in parts on 1 and 2 worker processes.
            run.validation = run_validation_section(workdir=directory / "validation", log=log)
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


def _page_names() -> tuple[str, ...]:
    return tuple(page.name for page in analytics_pages())


def _ingest(options: BenchOptions, workdir: Path, log: Log) -> IngestBench:
    result = run_ingest_benchmark(
        claims=options.ingest_claims,
        small_claims=options.ingest_small_claims,
        onto_copy=options.ingest_onto_copy,
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
