"""Prometheus gauges for analytics freshness, exported on /metrics with django-prometheus's registry.

``claims_analytics_view_age_seconds{view=...}``: seconds since the last successful refresh of each view and
summary table (absent for one never refreshed). Computed at scrape time from RefreshLog, so the number is
never stale itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector


class AnalyticsFreshnessCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registration calls describe(), not collect(): no database access while apps load.
        yield GaugeMetricFamily("claims_analytics_view_age_seconds", "", labels=["view"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from analytics.services.refresh import last_success

        age = GaugeMetricFamily(
            "claims_analytics_view_age_seconds",
            "Seconds since the last successful refresh of an analytics view or summary table",
            labels=["view"],
        )
        try:
            finished = last_success()
        except DatabaseError:
            # A scrape must not fail because the database is briefly away; the gauge is just absent.
            finished = {}
        now = timezone.now()
        for view, at in sorted(finished.items()):
            age.add_metric([view], (now - at).total_seconds())
        yield age


_registered = False


def register() -> None:
    """Register the collector once per process (AppConfig.ready can run twice under the autoreloader)."""
    global _registered
    if not _registered:
        REGISTRY.register(AnalyticsFreshnessCollector())
        _registered = True
