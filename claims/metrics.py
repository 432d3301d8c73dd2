"""Prometheus metrics of adjudication, exported on /metrics with django-prometheus's registry.

* ``claims_adjudicated_claims_total{outcome}``: claims decided (approved / denied / pended) by successful,
  non-dry adjudication runs (``AdjudicationRun``), ever. A counter: it only grows while run rows are kept.
* ``claims_adjudication_edits_total{edit}``: how often each edit (``claims.adjudication.edits``) fired.
* ``claims_processing_ms_p95``: 95th percentile of received -> final decision (ms) of the claims decided in the
  last 24 hours (``processed_at`` partial index; absent when none was).

Computed at scrape time; a failing read leaves the metric absent and the scrape succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError, connection
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from claims.lifecycle import ClaimStatus
from claims.models import AdjudicationRun, Claim
from ops.platform.models import RunOutcome

logger = logging.getLogger(__name__)

_RUNS = AdjudicationRun._meta.db_table
_CLAIMS = Claim._meta.db_table
_DECIDED = (ClaimStatus.APPROVED, ClaimStatus.DENIED, ClaimStatus.PENDED)


def adjudication_samples() -> tuple[dict[str, int], dict[str, int], float | None]:
    """(claims by outcome, fires by edit, p95 processing ms of the last 24 h or None). Raises DatabaseError."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(approved), 0), coalesce(sum(denied), 0), coalesce(sum(pended), 0) "
            f"FROM {_RUNS} WHERE outcome = %s AND NOT dry_run",
            [RunOutcome.SUCCESS],
        )
        outcomes = dict(zip(_DECIDED, (int(v) for v in cursor.fetchone()), strict=True))
        cursor.execute(
            f"SELECT e.key, sum(e.value::bigint) FROM {_RUNS} r, jsonb_each_text(r.edits) AS e "
            f"WHERE r.outcome = %s AND NOT r.dry_run GROUP BY e.key",
            [RunOutcome.SUCCESS],
        )
        edits = {key: int(n) for key, n in cursor.fetchall()}
        cursor.execute(
            f"SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_ms) FROM {_CLAIMS} "
            f"WHERE processed_at >= now() - interval '1 day' AND processing_ms IS NOT NULL"
        )
        (p95,) = cursor.fetchone()
    return {str(k): v for k, v in outcomes.items()}, edits, None if p95 is None else float(p95)


class AdjudicationCollector(Collector):
    def describe(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        # Registration calls describe(), not collect(): no database access while apps load.
        yield CounterMetricFamily("claims_adjudicated_claims", "", labels=["outcome"])
        yield CounterMetricFamily("claims_adjudication_edits", "", labels=["edit"])
        yield GaugeMetricFamily("claims_processing_ms_p95", "")

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        decided = CounterMetricFamily(
            "claims_adjudicated_claims", "Claims decided by adjudication, by outcome", labels=["outcome"]
        )
        edits = CounterMetricFamily(
            "claims_adjudication_edits", "Adjudication edits fired, by edit", labels=["edit"]
        )
        p95 = GaugeMetricFamily(
            "claims_processing_ms_p95", "95th percentile of received to final decision (ms), last 24 hours"
        )
        try:
            outcomes, fired, p95_ms = adjudication_samples()
        except DatabaseError as error:
            logger.warning("metrics: adjudication counters unavailable: %s", error)
            outcomes, fired, p95_ms = {}, {}, None
        for outcome, n in sorted(outcomes.items()):
            decided.add_metric([outcome], n)
        for edit, n in sorted(fired.items()):
            edits.add_metric([edit], n)
        if p95_ms is not None:
            p95.add_metric([], p95_ms)
        yield from (decided, edits, p95)


_registered = False


def register() -> None:
    """Register the collector once per process (AppConfig.ready can run twice under the autoreloader)."""
    global _registered
    if not _registered:
        REGISTRY.register(AdjudicationCollector())
        _registered = True
