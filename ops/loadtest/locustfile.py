"""The platform's users, for locust (`make loadtest`; scripts/loadtest.sh starts gunicorn and runs this headless).

Three kinds of user, in the mix the platform sees (weights 3 : 2 : 1):

* examiners: the work queue, a claim search by number (the admin's exact-match search), a claim's page;
* analysts: every analytics page with the monthly report's CSV export, and the JSON the charts load;
* the ops engineer: the database health pages (slow queries, indexes, tables and partitions).

Each signs in once through the admin's login form (the load test's server runs with ``OTP_REQUIRED=False``: a
TOTP code per simulated user would measure pyotp, not the platform). Claim ids and numbers come from
``LOADTEST_SAMPLE`` (JSON written by ``manage.py loadtest_setup``), so no page is a 404. Every response time is
also written, by group ("admin", "analytics", "ops"), to ``LOADTEST_TIMINGS`` (JSON lines) when the run stops:
ops/loadtest/report.py computes each group's p95 from every sample, not from per-URL percentiles. With them go
the analytics JSON answers counted by their ``X-Cache`` header (hit, miss, bypass), for the cache's hit rate.

No member data is sent: searches are by claim number, pages by id.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import defaultdict
from typing import Any

from locust import HttpUser, between, events, task

SAMPLE = json.loads(open(os.environ["LOADTEST_SAMPLE"], encoding="utf-8").read())  # noqa: SIM115
PASSWORD = os.environ["LOADTEST_PASSWORD"]
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_timings: dict[str, list[float]] = defaultdict(list)
_errors: dict[str, int] = defaultdict(int)
# The analytics JSON answers by their X-Cache header (analytics/cache.py: hit, miss, bypass): the hit rate.
_cache: dict[str, int] = defaultdict(int)


@events.request.add_listener
def _record(
    name: str, response_time: float, exception: BaseException | None, response: Any = None, **_: Any
) -> None:
    group = name.split(":", 1)[0]
    _timings[group].append(response_time)
    if exception is not None:
        _errors[group] += 1
    if group == "analytics" and "/api/" in name and response is not None:
        _cache[response.headers.get("X-Cache", "none")] += 1


@events.spawning_complete.add_listener
def _reset(**_: Any) -> None:
    # Sign-ins (a password hash each) and the ramp are not the steady state: count from here, as --reset-stats.
    _timings.clear()
    _errors.clear()
    _cache.clear()


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    path = os.environ.get("LOADTEST_TIMINGS")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"timings_ms": _timings, "errors": _errors, "analytics_cache": _cache}, out)


class _SignedIn(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    username = ""

    def on_start(self) -> None:
        page = self.client.get("/admin/login/", name="login:form")
        token = _CSRF.search(page.text)
        assert token, "no CSRF token on the login form"
        response = self.client.post(
            "/admin/login/?next=/admin/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{self.host}/admin/login/"},
            name="login:post",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"sign-in of {self.username} refused ({response.status_code})")


class Examiner(_SignedIn):
    weight = 3
    username = "loadtest-examiner"

    @task(3)
    def work_queue(self) -> None:
        self.client.get("/admin/claims/workqueueclaim/", name="admin: work queue")

    @task(2)
    def search_claim(self) -> None:
        number = random.choice(SAMPLE["claim_numbers"])
        self.client.get("/admin/claims/claim/", params={"q": number}, name="admin: claims search by number")

    @task(4)
    def claim_page(self) -> None:
        claim_id = random.choice(SAMPLE["claim_ids"])
        self.client.get(f"/admin/claims/claim/{claim_id}/change/", name="admin: claim page")

    @task(1)
    def claims_list(self) -> None:
        self.client.get("/admin/claims/claim/", name="admin: claims list")


class Analyst(_SignedIn):
    weight = 2
    username = "loadtest-analyst"

    @task
    def pages(self) -> None:
        for page in SAMPLE["analytics_pages"]:
            self.client.get(page, name=f"analytics: {page}")

    @task
    def charts(self) -> None:
        for url in SAMPLE["analytics_api"]:
            self.client.get(url, name=f"analytics: {url.split('?')[0]}")


class Ops(_SignedIn):
    weight = 1
    username = "loadtest-ops"

    @task
    def health(self) -> None:
        for page in ("slow-queries/", "indexes/", "tables/"):
            self.client.get(f"/admin/ops/opsaccess/{page}", name=f"ops: {page}")
