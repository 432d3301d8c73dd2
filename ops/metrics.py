"""Prometheus gauges for database health and maintenance, exported on /metrics with django-prometheus's registry.

Computed at scrape time from catalog and statistics views only (``pg_class.relpages``, ``pg_inherits``,
``pg_stat_database``, ``pg_stat_get_*_tuples()``, ``pg_stat_statements(false)``) plus the small ``TaskRun``
table: no ``COUNT(*)`` over a big table, except DEFAULT partitions, which must be empty (and the count stops at
``DEFAULT_COUNT_CAP`` rows). About 15 ms a scrape on the 1M-claim database.

* ``claims_db_slow_statements``: pg_stat_statements entries of this database whose mean execution time is
  above ``OPS_METRICS_SLOW_STATEMENT_MS`` (500). Cumulative like the view itself: reset it on the Slow queries
  page once the statement is fixed. Absent when the extension is not installed or not preloaded.
* ``claims_db_cache_hit_ratio``: ``blks_hit / (blks_hit + blks_read)`` of this database (pg_stat_database).
* ``claims_partitions_future_months{table}``: consecutive monthly partitions after the current month (UTC) of
  each table maintained by ``partitions_maintain`` (a missing month stops the count).
* ``claims_partition_default_rows{table}``: rows in the DEFAULT partition of each partitioned table.
* ``claims_maintenance_last_success_timestamp_seconds{job,schedule}``: when the last successful (not dry) run
  finished; ``schedule`` is "daily", "weekly", "monthly" or "none" (config/beat.py). The alert rules select jobs
  by it: Prometheus renames a scraped ``job`` label to ``exported_job`` unless the scrape sets ``honor_labels``.
* ``claims_maintenance_last_outcome{job,outcome}``: 1 for the outcome of each job's latest (not dry) run.
* ``claims_table_dead_tuple_ratio{table}``: ``n_dead_tup / (n_live_tup + n_dead_tup)`` of the 10 largest public
  tables (size: heap + TOAST + index pages from ``pg_class.relpages``), partitions rolled up to their parent
  (``pg_inherits``); 0 for a table without tuples.

The connection pool's gauges, when ``DATABASE_POOL_MAX_SIZE`` gives the web process one (``PoolCollector``, no
database access; psycopg_pool's ``get_stats()``), per alias: ``claims_db_pool_max``, ``claims_db_pool_size``,
``claims_db_pool_in_use``, ``claims_db_pool_waiting``, and since the process started ``claims_db_pool_requests``,
``claims_db_pool_requests_queued`` (queued / requests: how often a request had to wait),
``claims_db_pool_wait_seconds`` and ``claims_db_pool_errors`` (no connection within ``DATABASE_POOL_TIMEOUT``).

``claims_analytics_view_age_seconds`` is analytics/metrics.py's; the read replica's gauges are
ops/platform/replica.py's. Each gauge is read in its own savepoint: a
failing read (database away, lock timeout) leaves that gauge empty and the scrape still succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg import sql

from ops import conf
from ops.platform.partitioning import registry

logger = logging.getLogger(__name__)

SCHEMA = "public"
# A DEFAULT partition is counted up to this many rows: bounded cost, and any value above 0 is the alert.
DEFAULT_COUNT_CAP = 100_000
DEAD_TUPLE_TABLES = 10
# When the scrape owns its transaction: never wait long on a lock (DEFAULT repair locks DEFAULT partitions
# ACCESS EXCLUSIVE) nor run long.
STATEMENT_TIMEOUT = "2s"
LOCK_TIMEOUT = "200ms"

_MONTH_SUFFIX = re.compile(r"_p(\d{4})_(\d{2})$")

# (name, help, labels): describe() yields these without touching the database.
METRICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "claims_db_slow_statements",
        "pg_stat_statements entries of this database with a mean execution time above the threshold",
        (),
    ),
    ("claims_db_cache_hit_ratio", "Buffer cache hit ratio of this database (pg_stat_database)", ()),
    (
        "claims_partitions_future_months",
        "Consecutive monthly partitions after the current month",
        ("table",),
    ),
    ("claims_partition_default_rows", "Rows in the DEFAULT partition of a partitioned table", ("table",)),
    (
        "claims_maintenance_last_success_timestamp_seconds",
        "Unix time when the last successful run of a maintenance job finished",
        ("job", "schedule"),
    ),
    (
        "claims_maintenance_last_outcome",
        "1 for the outcome of the latest run of a maintenance job",
        ("job", "outcome"),
    ),
    (
        "claims_table_dead_tuple_ratio",
        "Dead tuples / (live + dead) of the largest tables, partitions rolled up to their parent",
        ("table",),
    ),
)
METRIC_NAMES = tuple(name for name, _, _ in METRICS)

Samples = list[tuple[str, tuple[str, ...], float]]  # (metric, label values, value)


def _rows(
    cursor: Any, query: str | sql.Composable, params: list[Any] | dict[str, Any] | None = None
) -> list[Any]:
    cursor.execute(query, params)
    return list(cursor.fetchall())


def slow_statements(cursor: Any) -> Samples:
    # pg_stat_statements(false): without the query texts, which the view would read from a file.
    ((count,),) = _rows(
        cursor,
        """
        SELECT count(*) FROM pg_stat_statements(false) s
        WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND s.mean_exec_time > %s
        """,
        [conf.metrics_slow_statement_ms()],
    )
    return [("claims_db_slow_statements", (), float(count))]


def cache_hit_ratio(cursor: Any) -> Samples:
    ((hit, read),) = _rows(
        cursor, "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()"
    )
    total = int(hit or 0) + int(read or 0)
    return [("claims_db_cache_hit_ratio", (), int(hit) / total)] if total else []


def future_months(cursor: Any, *, today: dt.date | None = None) -> Samples:
    tables = [t.table for group in registry() for t in group.tables]
    months: dict[str, set[dt.date]] = {table: set() for table in tables}
    for parent, child in _rows(
        cursor,
        """
        SELECT p.relname, c.relname FROM pg_inherits i
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = %s AND p.relname = ANY(%s)
        """,
        [SCHEMA, tables],
    ):
        match = _MONTH_SUFFIX.search(child)
        if match and child == f"{parent}_p{match[1]}_{match[2]}":
            months[parent].add(dt.date(int(match[1]), int(match[2]), 1))
    month = (today or timezone.now().astimezone(dt.UTC).date()).replace(day=1)
    samples: Samples = []
    for table in tables:
        ahead = 0
        while month + relativedelta(months=ahead + 1) in months[table]:
            ahead += 1
        samples.append(("claims_partitions_future_months", (table,), float(ahead)))
    return samples


def default_rows(cursor: Any) -> Samples:
    samples: Samples = []
    for parent, default in _rows(
        cursor,
        """
        SELECT p.relname, d.relname FROM pg_partitioned_table pt
        JOIN pg_class p ON p.oid = pt.partrelid
        JOIN pg_class d ON d.oid = pt.partdefid
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = %s
        ORDER BY p.relname
        """,
        [SCHEMA],
    ):
        # The name comes from the catalog, quoted as an identifier.
        query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT %s) capped").format(
            sql.Identifier(SCHEMA, default)
        )
        ((count,),) = _rows(cursor, query, [DEFAULT_COUNT_CAP])
        samples.append(("claims_partition_default_rows", (parent,), float(count)))
    return samples


def job_schedules() -> dict[str, str]:
    """Maintenance job name (ops.maintenance's, = the ops.tasks function) -> "daily", "weekly" or "monthly"."""
    from config.beat import SCHEDULES

    schedules = {}
    for schedule in SCHEDULES:
        module, _, job = schedule.task.rpartition(".")
        if module == "ops.tasks" and schedule.crontab:
            _, _, day_of_month, _, day_of_week = schedule.crontab.split()
            if day_of_month != "*":
                schedules[job] = "monthly"
            else:
                schedules[job] = "daily" if day_of_week == "*" else "weekly"
    return schedules


def maintenance_runs(cursor: Any) -> Samples:
    from django.db.models import Max

    from ops.models import TaskOutcome, TaskRun

    runs = TaskRun.objects.using(cursor.db.alias).filter(dry_run=False)
    schedules = job_schedules()
    samples: Samples = []
    last_success = (
        runs.filter(outcome=TaskOutcome.SUCCESS, finished_at__isnull=False)
        .values("job")
        .annotate(last=Max("finished_at"))
        .order_by("job")
    )
    for row in last_success:
        samples.append(
            (
                "claims_maintenance_last_success_timestamp_seconds",
                (row["job"], schedules.get(row["job"], "none")),
                row["last"].timestamp(),
            )
        )
    # DISTINCT ON (job), newest first: the index taskrun_job_idx (job, -started_at).
    latest = runs.order_by("job", "-started_at").distinct("job").values_list("job", "outcome")
    for job, outcome in latest:
        samples.append(("claims_maintenance_last_outcome", (job, outcome), 1.0))
    return samples


_DEAD_TUPLES_SQL = """
WITH RECURSIVE tree(root, oid) AS (
    SELECT c.oid, c.oid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
    UNION ALL
    SELECT tree.root, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
), index_pages AS (
    SELECT x.indrelid, SUM(ic.relpages) AS pages
    FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
    GROUP BY x.indrelid
)
SELECT root.relname,
       COALESCE(SUM(pg_stat_get_live_tuples(tree.oid)), 0),
       COALESCE(SUM(pg_stat_get_dead_tuples(tree.oid)), 0)
FROM tree
JOIN pg_class root ON root.oid = tree.root
JOIN pg_class leaf ON leaf.oid = tree.oid
LEFT JOIN pg_class toast ON toast.oid = leaf.reltoastrelid
LEFT JOIN index_pages ON index_pages.indrelid = leaf.oid
GROUP BY root.oid, root.relname
ORDER BY SUM(leaf.relpages::bigint + COALESCE(toast.relpages, 0) + COALESCE(index_pages.pages, 0)) DESC,
         root.relname
LIMIT %(limit)s
"""


def dead_tuple_ratios(cursor: Any) -> Samples:
    samples: Samples = []
    for table, live, dead in _rows(cursor, _DEAD_TUPLES_SQL, {"schema": SCHEMA, "limit": DEAD_TUPLE_TABLES}):
        total = int(live) + int(dead)
        samples.append(("claims_table_dead_tuple_ratio", (table,), int(dead) / total if total else 0.0))
    return samples


READERS: tuple[Callable[[Any], Samples], ...] = (
    slow_statements,
    cache_hit_ratio,
    future_months,
    default_rows,
    maintenance_runs,
    dead_tuple_ratios,
)


def read_samples(*, using: str = "default") -> Samples:
    """Every sample of the gauges; a reader that fails (DatabaseError) contributes none."""
    connection = connections[using]
    samples: Samples = []
    try:
        owns_transaction = not connection.in_atomic_block
        with transaction.atomic(using=using), connection.cursor() as cursor:
            if owns_transaction:
                # SET LOCAL ends with this transaction; inside a caller's transaction (tests) nothing is set.
                cursor.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # Statistics are otherwise cached for the whole transaction (stats_fetch_consistency).
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            for reader in READERS:
                try:
                    with transaction.atomic(using=using):
                        samples.extend(reader(cursor))
                except DatabaseError as error:
                    # pg_stat_statements missing or not preloaded is a normal state: the gauge is just absent.
                    level = logging.DEBUG if reader is slow_statements else logging.WARNING
                    logger.log(level, "metrics: %s failed: %s", reader.__name__, error)
    except DatabaseError as error:
        # A scrape must not fail because the database is briefly away; the gauges are just absent.
        logger.warning("metrics: database unavailable: %s", error)
    return samples


class OpsHealthCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registration calls describe(), not collect(): no database access while apps load.
        for name, help_text, labels in METRICS:
            yield GaugeMetricFamily(name, help_text, labels=list(labels))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {
            name: GaugeMetricFamily(name, help_text, labels=list(labels))
            for name, help_text, labels in METRICS
        }
        for name, labels, value in read_samples():
            families[name].add_metric(list(labels), value)
        yield from families.values()


# psycopg_pool's get_stats() keys (psycopg docs, "Pool stats") as gauges per database alias; absent when the
# alias has no pool (DATABASE_POOL_MAX_SIZE = 0). Each process has its own pool: a scrape shows the process
# that answered it (gunicorn's workers each have one).
POOL_GAUGES: tuple[tuple[str, str, Callable[[dict[str, int]], float]], ...] = (
    ("claims_db_pool_max", "Connections the pool may open (max_size)", lambda s: s.get("pool_max", 0)),
    (
        "claims_db_pool_size",
        "Connections the pool holds now, in use or idle",
        lambda s: s.get("pool_size", 0),
    ),
    (
        "claims_db_pool_in_use",
        "Connections lent to a request now",
        lambda s: s.get("pool_size", 0) - s.get("pool_available", 0),
    ),
    (
        "claims_db_pool_waiting",
        "Requests waiting for a connection now",
        lambda s: s.get("requests_waiting", 0),
    ),
    (
        "claims_db_pool_requests",
        "Connections asked of the pool since start",
        lambda s: s.get("requests_num", 0),
    ),
    (
        "claims_db_pool_requests_queued",
        "Of those, the ones that had to wait: queued / requests is the pool's shortfall",
        lambda s: s.get("requests_queued", 0),
    ),
    (
        "claims_db_pool_wait_seconds",
        "Time requests spent waiting for a connection since start, seconds",
        lambda s: s.get("requests_wait_ms", 0) / 1000,
    ),
    (
        "claims_db_pool_errors",
        "Requests that got no connection (timeout) since start",
        lambda s: s.get("requests_errors", 0),
    ),
)


def pool_samples() -> Samples:
    """The pool gauges of every alias that has a connection pool (``OPTIONS["pool"]``); no database access."""
    samples: Samples = []
    for alias in connections:
        if not connections.settings[alias].get("OPTIONS", {}).get("pool"):
            continue
        pool = getattr(connections[alias], "pool", None)
        if pool is None:
            continue
        stats = pool.get_stats()
        samples.extend((name, (alias,), float(value(stats))) for name, _, value in POOL_GAUGES)
    return samples


class PoolCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        for name, help_text, _ in POOL_GAUGES:
            yield GaugeMetricFamily(name, help_text, labels=["alias"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {
            name: GaugeMetricFamily(name, help_text, labels=["alias"]) for name, help_text, _ in POOL_GAUGES
        }
        for name, labels, value in pool_samples():
            families[name].add_metric(list(labels), value)
        yield from families.values()


_registered = False


def register() -> None:
    """Register the collector once per process (AppConfig.ready can run twice under the autoreloader)."""
    global _registered
    if not _registered:
        REGISTRY.register(OpsHealthCollector())
        REGISTRY.register(PoolCollector())
        _registered = True
