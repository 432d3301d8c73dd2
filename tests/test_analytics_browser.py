"""The analytics pages in a real browser: Debian's headless Chromium, driven by Selenium.

analytics/tests/test_pages.py checks the figures; these tests check what a person gets: each page loads, each of
its ECharts charts is drawn from its JSON endpoint (the chart's container holds a canvas and
``echarts.getInstanceByDom`` finds the chart), the console shows no error, the drill-down and sort links work,
and someone without the permission sees a 403. A full-page screenshot of each page is saved as
test-artifacts/screenshots/analytics-<page>.png.

ECharts comes from npm (``make assets``, scripts/assets.sh) and is served by the live server's static files.
The data must be committed for the live server's thread to see it, so these tests are transactional.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from analytics.tests.data import demo_files, ensure_reference_data, load_claims, make_user
from tests.browser import WAIT, chromium, console_errors, log_in_as, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

ECHARTS = Path(settings.BASE_DIR) / "analytics" / "static" / "analytics" / "vendor" / "echarts.min.js"
# page name -> (URL name, heading, charts on the page)
PAGES = {
    "overview": ("analytics:overview", "Overview", 1),
    "icd10": ("analytics:icd10", "ICD-10-CM explorer", 2),
    "plans": ("analytics:plans", "Plan comparison", 1),
    "providers": ("analytics:providers", "Provider performance", 1),
    "flow": ("analytics:flow", "Claim status flow", 1),
    "failed": ("analytics:failed", "Failed claims", 2),
    "report": ("analytics:report", "Monthly report", 1),
}
# Run in the page: for every chart container, is an ECharts instance attached and has it drawn a canvas?
CHARTS_DRAWN = """
return Array.from(document.querySelectorAll('[data-chart]')).map((el) => ({
  kind: el.dataset.chart,
  state: el.dataset.state || null,
  instance: typeof echarts !== 'undefined' && echarts.getInstanceByDom(el) != null,
  drawn: el.querySelector('canvas, svg') !== null,
}));
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    if not ECHARTS.exists():
        pytest.fail(f"{ECHARTS} is missing: run 'make assets' (npm ci, then the copy into static)")
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture
def page(browser: WebDriver) -> Iterator[WebDriver]:
    browser.delete_all_cookies()
    browser.get_log("browser")  # reading the log empties it
    yield browser


def wait_for_charts(driver: WebDriver) -> list[dict[str, Any]]:
    """Wait until every chart has been drawn or has failed (charts.js sets data-state), then describe them."""
    WebDriverWait(driver, WAIT).until(
        lambda d: all(chart["state"] in ("ready", "error") for chart in d.execute_script(CHARTS_DRAWN))
    )
    charts: list[dict[str, Any]] = driver.execute_script(CHARTS_DRAWN)
    return charts


def test_every_page_draws_its_charts_for_an_analyst(
    page: WebDriver,
    live_server: LiveServer,
    shared_x12: Path,
    tmp_path_factory: pytest.TempPathFactory,
    django_user_model: Any,
) -> None:
    group = ensure_reference_data()
    load_claims(files=demo_files(tmp_path_factory), shared_x12=shared_x12)
    log_in_as(page, live_server, make_user(django_user_model, "analyst", group=group))

    errors: dict[str, list[dict[str, Any]]] = {}
    for name, (url_name, heading, chart_count) in PAGES.items():
        page.get(live_server.url + reverse(url_name))
        charts = wait_for_charts(page)
        screenshot(page, f"analytics-{name}")

        assert page.find_element(By.TAG_NAME, "h1").text.startswith(heading), name
        assert page.find_element(By.CSS_SELECTOR, ".as-of").text.startswith("Data as of 20"), name
        assert len(charts) == chart_count, name
        assert all(c["state"] == "ready" and c["instance"] and c["drawn"] for c in charts), (name, charts)
        errors[name] = console_errors(page)

    assert errors == dict.fromkeys(PAGES, [])

    # Drill down: a chapter in the ICD-10 table opens its blocks, with both charts drawn again.
    page.get(live_server.url + reverse("analytics:icd10"))
    page.find_element(By.CSS_SELECTOR, "table.data tbody td.key a").click()
    WebDriverWait(page, WAIT).until(lambda d: "chapter=" in d.current_url)
    assert all(c["state"] == "ready" for c in wait_for_charts(page))
    assert page.find_element(By.CSS_SELECTOR, "table.data thead th").text == "Block"
    screenshot(page, "analytics-icd10-chapter")

    # Sort: a column heading sorts by it, largest first, and says so.
    page.get(live_server.url + reverse("analytics:providers"))
    page.find_element(By.CSS_SELECTOR, "a[data-sort=paid]").click()
    WebDriverWait(page, WAIT).until(lambda d: "sort=-paid" in d.current_url)
    sorted_by = page.find_element(By.CSS_SELECTOR, "th[aria-sort]")
    assert (sorted_by.text.split()[0], sorted_by.get_attribute("aria-sort")) == ("Paid", "descending")
    assert console_errors(page) == []


def test_anonymous_visitors_go_to_the_login_and_others_get_403(
    page: WebDriver, live_server: LiveServer, django_user_model: Any
) -> None:
    # One test for both: each transactional test costs seconds of table flushing when it ends.
    page.get(live_server.url + reverse("analytics:plans"))
    assert page.current_url == f"{live_server.url}{reverse('admin:login')}?next={reverse('analytics:plans')}"

    log_in_as(page, live_server, make_user(django_user_model, "clerk"))
    page.get(live_server.url + reverse("analytics:overview"))
    assert page.find_element(By.TAG_NAME, "h1").text == "403 Forbidden"
    assert page.find_elements(By.CSS_SELECTOR, "[data-chart]") == []
    # The chart endpoints refuse too: fetched from the page as the charts would fetch them.
    status = page.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then((r) => done(r.status));",
        reverse("analytics:api-overview-daily"),
    )
    assert status == 403
    # Only the 403s themselves are logged (the page's load and the fetch).
    assert all("403" in e["message"] for e in console_errors(page))
