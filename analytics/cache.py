"""The analytics JSON answers, cached in Redis and invalidated by the refreshes of the views they read.

Key: the endpoint, its query parameters, today's date (parameters default to today's month or quarter), whether
the viewer may see small cells (``selectors.SMALL_CELLS_PERMISSION``: the answers differ), and the version of
the sources the endpoint reads: each source's last successful refresh (``selectors.sources_refreshed``,
``{db_table: finished_at}`` from ``RefreshLog``). Every refresh, full or incremental, writes a RefreshLog row
(``analytics.services.refresh``, ``analytics.services.summaries``), so the first request after it builds a new
key and recomputes: an answer is never older than the views it reads. Old keys are not deleted; they expire
after ``ANALYTICS_CACHE_SECONDS``.

The version is read in the same request, on the same database, as the data (``replica_reads()`` pins one
alias per request): a standby that has not yet replayed a refresh still answers with the old version, so its
old rows are never cached under the new one. A bump at the refresh's commit, read from Redis, would let a
lagging standby fill the new key with the rows from before the refresh.

Not cached: answers that are not 200, an endpoint whose sources were never refreshed (no version to key on),
and anything while Redis is unreachable (the answer is computed, a warning logged once per outage). The key is
a SHA-256 digest: the parameters (plans, months, codes; no member data) never appear in Redis key names.
``X-Cache: hit | miss | bypass`` on each answer tells the load test the hit rate (ops/loadtest), as does
``claims_analytics_cache_requests_total{endpoint, result}`` on /metrics.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import Counter
from redis.exceptions import RedisError

from analytics import selectors
from analytics.params import today

logger = logging.getLogger(__name__)

CACHE_ALIAS = "analytics"
REQUESTS = Counter(
    "claims_analytics_cache_requests",
    "Analytics JSON answers by endpoint and cache result (hit, miss, bypass: not cacheable or Redis away)",
    ["endpoint", "result"],
)
_redis_away = False


def cache_key(request: HttpRequest, endpoint: str, refreshed: dict[str, object], *, small_cells: bool) -> str:
    """The cache key (str) for one answer: a digest of what the answer depends on (see the module doc)."""
    parts = [
        endpoint,
        sorted((name, sorted(values)) for name, values in request.GET.lists()),
        today().isoformat(),
        small_cells,
        sorted((view, str(at)) for view, at in refreshed.items()),
    ]
    digest = hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()
    return f"analytics:json:{endpoint}:{digest}"


def _redis_failed(exc: RedisError) -> None:
    global _redis_away
    if not _redis_away:
        logger.warning(
            "analytics cache: Redis unreachable, answers are computed uncached (%s)", type(exc).__name__
        )
    _redis_away = True


def cached_json(
    sources: Iterable[type[models.Model]],
) -> Callable[[Callable[[HttpRequest], HttpResponseBase]], Callable[[HttpRequest], HttpResponseBase]]:
    """Decorate a JSON endpoint that reads ``sources`` (view or summary-table models) to answer from the cache.

    Goes inside ``analyst_required`` (the sign-in and permission checks run first, uncached, and the version is
    read on the reads' database). ``ANALYTICS_CACHE_SECONDS`` = 0 switches caching off. Raises nothing of its
    own: Redis errors fall back to computing the answer.
    """
    source_models = tuple(sources)

    def decorate(
        view: Callable[[HttpRequest], HttpResponseBase],
    ) -> Callable[[HttpRequest], HttpResponseBase]:
        endpoint = view.__name__

        @functools.wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponseBase:
            global _redis_away
            seconds = int(getattr(settings, "ANALYTICS_CACHE_SECONDS", 0))
            refreshed = selectors.sources_refreshed(source_models) if seconds > 0 else None
            if refreshed is None:
                return _marked(view(request), endpoint, "bypass")
            small_cells = request.user.has_perm(selectors.SMALL_CELLS_PERMISSION)
            key = cache_key(request, endpoint, dict(refreshed), small_cells=small_cells)
            cache = caches[CACHE_ALIAS]
            try:
                body = cache.get(key)
            except RedisError as exc:
                _redis_failed(exc)
                return _marked(view(request), endpoint, "bypass")
            if _redis_away:
                logger.info("analytics cache: Redis reachable again")
                _redis_away = False
            if body is not None:
                return _marked(HttpResponse(body, content_type="application/json"), endpoint, "hit")
            response = view(request)
            if response.status_code != 200 or not isinstance(response, HttpResponse):
                return _marked(response, endpoint, "bypass")  # a 400 for bad parameters is cheap and not kept
            try:
                cache.set(key, response.content, timeout=seconds)
            except RedisError as exc:
                _redis_failed(exc)
                return _marked(response, endpoint, "bypass")
            return _marked(response, endpoint, "miss")

        return wrapper

    return decorate


def _marked(response: HttpResponseBase, endpoint: str, result: str) -> HttpResponseBase:
    REQUESTS.labels(endpoint, result).inc()
    response["X-Cache"] = result
    return response
