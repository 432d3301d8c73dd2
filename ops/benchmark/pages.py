"""Time the analytics pages as an analyst opens them: every URL of ``analytics/urls.py``, through the test client.

Each URL is fetched with its default parameters (the pages pick the latest data on file) by a throw-away
superuser, ``warmup`` times untimed, then ``iterations`` times timed. The request time is the whole test-client
request (view, selectors, template or JSON, session and user lookups). Every SQL statement of the timed requests
is timed too, with a ``connection.execute_wrapper`` around ``execute`` (``perf_counter``, sub-millisecond; Django's
``CaptureQueriesContext`` rounds to whole ms and switches on the debug cursor): per request, how many statements,
their sum, and the slowest statement's p95 across the requests. "Queries together" of the monthly report sums
the statements of the report page and of the chart endpoint its template loads (``MONTHLY_REPORT_URLS``).

The statements are recorded without their parameters; the reports keep only a statement's first table.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, reverse

from analytics import urls as analytics_urls
from ops.benchmark.stats import Timing

# The monthly report as an analyst sees it: the page and the chart endpoint its template loads
# (analytics/templates/analytics/report.html). The CSV and PDF exports are downloads, timed on their own.
MONTHLY_REPORT_URLS = ("analytics:report", "analytics:api-report-plans")
# A statement that names one of these reads the claim tables; the analytics pages must run none.
_CLAIM_TABLE = re.compile(r"\bclaims_claim(line|statushistory)?\b")
_FIRST_TABLE = re.compile(r'\bFROM\s+"?(\w+)"?', re.IGNORECASE)

Log = Callable[[str], None]


class PageError(Exception):
    """A benchmarked page did not answer 200."""


@dataclass(frozen=True)
class AnalyticsPage:
    name: str  # "analytics_" + the URL name with "-" as "_": used by --only and in the reports
    url_name: str  # "analytics:<name>", reversed with django.urls.reverse


def analytics_pages() -> tuple[AnalyticsPage, ...]:
    """Every named URL of ``analytics/urls.py``, in its order (none takes arguments)."""
    namespace = analytics_urls.app_name
    return tuple(
        AnalyticsPage(
            name=f"{namespace}_{pattern.name.replace('-', '_')}", url_name=f"{namespace}:{pattern.name}"
        )
        for pattern in analytics_urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.name
    )


@dataclass(frozen=True)
class PageResult:
    """One URL timed. ``request``: whole requests; ``sql_total``: the statements of a request, summed."""

    name: str
    url: str
    status: int
    content_type: str
    bytes: int
    request: Timing
    statements: int  # SQL statements per request (the last timed one)
    sql_total: Timing
    slowest_statement: Timing  # the statement (SQL text) with the highest p95 over all timed requests
    slowest_statement_table: str  # its first FROM table ("" when none)
    claim_table_statements: int  # statements per request that name a claim table (should be 0)


@dataclass(frozen=True)
class PagesBench:
    pages: list[PageResult]
    monthly_report_urls: tuple[str, ...]  # the URLs summed in ``monthly_report_sql``
    monthly_report_sql: Timing | None  # per run: the statements of all of them, summed; None if not all ran


class StatementTimer:
    """``execute_wrapper`` that records (SQL text, ms) for every statement while installed."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, float]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, (time.perf_counter() - started) * 1000))


@contextmanager
def superuser_client(*, using: str = "default") -> Iterator[Client]:
    """A test client logged in as a superuser created for the block and deleted afterwards (with its session).

    The test client sends ``Host: testserver``, added to ``ALLOWED_HOSTS`` for the block.
    """
    username = f"benchmark-{uuid.uuid4().hex[:12]}"
    user = (
        get_user_model()
        .objects.db_manager(using)
        .create_user(username=username, password=None, is_staff=True, is_superuser=True)
    )
    client = Client()
    try:
        client.force_login(user)
        _second_factor_verified(client, user, using=using)
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            yield client
    finally:
        client.logout()
        user.delete()


def _second_factor_verified(client: Client, user: Any, *, using: str) -> None:
    """Mark the client's session as having passed the TOTP step (what ``django_otp.login`` stores), with a
    confirmed device of the user's, so the admin (``config.admin_site``, ``OTP_REQUIRED``) admits it. The device
    goes with the user (cascade)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.db_manager(using).create(user=user, name="benchmark", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _first_table(sql: str) -> str:
    match = _FIRST_TABLE.search(sql)
    return match.group(1) if match else ""


def time_page(
    client: Client, page: AnalyticsPage, *, iterations: int, warmup: int, using: str = "default"
) -> tuple[PageResult, list[float]]:
    """Time GETs of ``page``; (result, per-request SQL totals in ms). Raises ``PageError`` unless 200."""
    url = reverse(page.url_name)

    def get() -> tuple[int, str, int]:
        response = client.get(url)
        if response.status_code != 200:
            raise PageError(f"{page.name} ({url}) answered HTTP {response.status_code}")
        return response.status_code, response.get("Content-Type", ""), len(response.content)

    for _ in range(warmup):
        get()
    request_ms: list[float] = []
    sql_totals: list[float] = []
    by_sql: dict[str, list[float]] = defaultdict(list)
    statements: list[tuple[str, float]] = []
    status, content_type, size = 0, "", 0
    for _ in range(iterations):
        timer = StatementTimer()
        with connections[using].execute_wrapper(timer):
            started = time.perf_counter()
            status, content_type, size = get()
            request_ms.append((time.perf_counter() - started) * 1000)
        statements = timer.statements
        sql_totals.append(sum(ms for _sql, ms in statements))
        for sql, ms in statements:
            by_sql[sql].append(ms)
    if by_sql:
        slowest_sql = max(by_sql, key=lambda sql: Timing.of(by_sql[sql]).p95_ms)
        slowest, table = Timing.of(by_sql[slowest_sql]), _first_table(slowest_sql)
    else:
        slowest, table = Timing.of([0.0]), ""
    result = PageResult(
        name=page.name,
        url=url,
        status=status,
        content_type=content_type,
        bytes=size,
        request=Timing.of(request_ms),
        statements=len(statements),
        sql_total=Timing.of(sql_totals),
        slowest_statement=slowest,
        slowest_statement_table=table,
        claim_table_statements=sum(1 for sql, _ms in statements if _CLAIM_TABLE.search(sql)),
    )
    return result, sql_totals


def run_pages(
    pages: Sequence[AnalyticsPage], *, iterations: int, warmup: int, using: str = "default", log: Log
) -> PagesBench:
    """Time every page in ``pages`` as a throw-away superuser; see the module docstring."""
    results: list[PageResult] = []
    report_totals: dict[str, list[float]] = {}
    with superuser_client(using=using) as client:
        for page in pages:
            result, sql_totals = time_page(client, page, iterations=iterations, warmup=warmup, using=using)
            if page.url_name in MONTHLY_REPORT_URLS:
                report_totals[page.url_name] = sql_totals
            log(
                f"{page.name}: p50 {result.request.p50_ms} ms, {result.statements} statements, slowest "
                f"p95 {result.slowest_statement.p95_ms} ms ({result.slowest_statement_table or 'none'})"
            )
            results.append(result)
    together = None
    if set(report_totals) == set(MONTHLY_REPORT_URLS):
        # Run i of the page plus run i of its chart: what one opening of the report costs in SQL.
        together = Timing.of([sum(runs) for runs in zip(*report_totals.values(), strict=True)])
    return PagesBench(
        pages=results,
        monthly_report_urls=tuple(reverse(name) for name in MONTHLY_REPORT_URLS),
        monthly_report_sql=together,
    )
