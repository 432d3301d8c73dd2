"""Freshness of each view: in the admin's refresh log page and as a Prometheus gauge on /metrics."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from analytics.services.refresh import ALL_VIEWS, GROUPS, view_name, views_refresh
from analytics.services.summaries import SUMMARIES

pytestmark = pytest.mark.django_db


def test_metrics_export_age_of_each_refreshed_view(client: Client) -> None:
    views_refresh(views=GROUPS["realtime"], trigger="test")

    body = client.get("/metrics", HTTP_HOST="localhost").content.decode()

    ages = dict(re.findall(r'^claims_analytics_view_age_seconds\{view="([^"]+)"\} ([0-9.e+-]+)$', body, re.M))
    assert set(ages) == {view_name(v) for v in GROUPS["realtime"]}
    assert all(0 <= float(age) < 60 for age in ages.values())


def test_admin_refresh_log_lists_freshness_of_every_view(admin_client: Client) -> None:
    views_refresh(views=GROUPS["daily"], trigger="test")

    page = admin_client.get("/admin/analytics/refreshlog/").content.decode()

    table = page.split('id="view-freshness"')[1].split("</table>")[0]
    for view in ALL_VIEWS:
        assert view_name(view) in table
    for summary in SUMMARIES:
        assert summary.table in table
    assert table.count("never refreshed") == len(ALL_VIEWS) - len(GROUPS["daily"]) + len(SUMMARIES)
