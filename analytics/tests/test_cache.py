"""The analytics JSON cache (analytics/cache.py) on the real Redis: kept until a view it reads refreshes.

The plan-comparison endpoint reads ``PlanDailyTotals``; a claim's charge changed without a refresh is not seen
(the cached answer is served), and seen once ``summaries_rebuild`` has written its RefreshLog row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from analytics.cache import CACHE_ALIAS
from analytics.models import RefreshLog
from analytics.services.summaries import summaries_rebuild
from analytics.tests.data import ensure_reference_data, make_user
from claims.models import Claim
from claims.tests.factories import ClaimFactory
from members.tests.factories import HealthPlanFactory

pytestmark = pytest.mark.django_db

QUARTER = "2026Q2"
DAY = dt.date(2026, 5, 12)


@pytest.fixture
def cached(settings: Any) -> None:
    """The cache on, in a key space of this test's own (nothing to clear, no other test's answers)."""
    settings.ANALYTICS_CACHE_SECONDS = 3600
    settings.CACHES = {
        **settings.CACHES,
        CACHE_ALIAS: {**settings.CACHES[CACHE_ALIAS], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"},
    }


@pytest.fixture
def plan() -> Any:
    plan = HealthPlanFactory(name="Cached Plan")
    for _ in range(3):
        ClaimFactory(health_plan=plan, service_date_from=DAY, total_charge=Decimal("100.00"))
    summaries_rebuild(trigger="test")
    return plan


def _client(*, small_cells: bool = False) -> Client:
    user = make_user(get_user_model(), f"analyst-{uuid.uuid4().hex[:8]}", group=ensure_reference_data())
    if small_cells:
        user.user_permissions.add(Permission.objects.get(codename="view_small_cells"))
    client = Client()
    client.force_login(user)
    return client


def _get(client: Client, name: str, **params: str) -> tuple[str, dict[str, Any]]:
    response = client.get(reverse(f"analytics:{name}"), params)
    assert response.status_code == 200, response.content[:300]
    return response["X-Cache"], response.json()


def _billed(data: dict[str, Any], plan: Any) -> str:
    (row,) = [p for p in data["plans"] if p["plan_id"] == plan.pk]
    return str(row["current"]["billed"])


def test_an_answer_is_served_from_the_cache_until_a_view_it_reads_refreshes(cached: None, plan: Any) -> None:
    analyst = _client()
    result, first = _get(analyst, "api-plans", quarter=QUARTER)
    assert (result, _billed(first, plan)) == ("miss", "300.00")

    # The claims change, the summary has not refreshed: the cached answer (the summary's figures) is served.
    Claim.objects.filter(health_plan=plan).update(total_charge=Decimal("250.00"))
    result, again = _get(analyst, "api-plans", quarter=QUARTER)
    assert (result, again) == ("hit", first)

    # The refresh writes its RefreshLog row: a new key, the answer recomputed from the refreshed summary.
    summaries_rebuild(trigger="test")
    result, fresh = _get(analyst, "api-plans", quarter=QUARTER)
    assert (result, _billed(fresh, plan)) == ("miss", "750.00")
    assert fresh["data_as_of"] > first["data_as_of"]
    assert _get(analyst, "api-plans", quarter=QUARTER) == ("hit", fresh)


def test_parameters_and_viewers_who_may_see_small_cells_have_answers_of_their_own(
    cached: None, plan: Any
) -> None:
    analyst, officer = _client(), _client(small_cells=True)
    assert _get(analyst, "api-plans", quarter=QUARTER)[0] == "miss"
    assert _get(analyst, "api-plans", quarter="2026Q1")[0] == "miss"
    assert _get(analyst, "api-plans", quarter=QUARTER)[0] == "hit"
    # Another analyst with the same permissions shares the answer; one who may see small cells does not.
    assert _get(_client(), "api-plans", quarter=QUARTER)[0] == "hit"
    assert _get(officer, "api-plans", quarter=QUARTER)[0] == "miss"
    assert _get(officer, "api-plans", quarter=QUARTER)[0] == "hit"


def test_bad_parameters_and_never_refreshed_sources_are_not_cached(cached: None, plan: Any) -> None:
    analyst = _client()
    for _ in range(2):
        response = analyst.get(reverse("analytics:api-plans"), {"quarter": "2026Q9"})
        assert (response.status_code, response["X-Cache"]) == (400, "bypass")
    RefreshLog.objects.filter(view="analytics_plandailytotals").delete()
    for _ in range(2):
        result, data = _get(analyst, "api-plans", quarter=QUARTER)
        assert (result, _billed(data, plan), data["data_as_of"]) == ("bypass", "300.00", None)


def test_an_unreachable_redis_leaves_the_answers_computed(cached: None, plan: Any, settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        CACHE_ALIAS: {**settings.CACHES[CACHE_ALIAS], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    analyst = _client()
    for _ in range(2):
        result, data = _get(analyst, "api-plans", quarter=QUARTER)
        assert (result, _billed(data, plan)) == ("bypass", "300.00")


def test_the_cache_off_computes_every_answer(plan: Any, settings: Any) -> None:
    settings.ANALYTICS_CACHE_SECONDS = 0
    analyst = _client()
    assert [_get(analyst, "api-plans", quarter=QUARTER)[0] for _ in range(2)] == ["bypass", "bypass"]
