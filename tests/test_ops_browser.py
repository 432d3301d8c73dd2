"""The ops pages in headless Chromium: each opens for an ops user (EXPLAIN for a superuser), renders its
report, logs no console error, and is saved as test-artifacts/screenshots/ops-<page>.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import chromium, console_errors, log_in_as, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    ("index", "ops_opsaccess_changelist", "Database health"),
    ("slow-queries", "ops_slow_queries", "Slow queries"),
    ("indexes", "ops_indexes", "Usage (partitions rolled up"),
    ("tables", "ops_tables", "Partitions"),
    ("advisor", "ops_advisor", "Index advisor"),
    ("activity", "ops_activity", "Backends of this database"),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def test_every_ops_page_opens_for_an_ops_user(
    browser: WebDriver, live_server: LiveServer, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("opsviewer", "ops@example.com", "pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="ops", codename="view_ops_reports")
    )
    browser.delete_all_cookies()
    log_in_as(browser, live_server, user)
    browser.get_log("browser")
    for name, url_name, text in PAGES:
        browser.get(live_server.url + reverse(f"admin:{url_name}"))
        body = browser.find_element(By.TAG_NAME, "body").text
        assert text in body, name
        assert "Server Error" not in body
        screenshot(browser, f"ops-{name}")
        assert console_errors(browser) == [], name


@pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
def test_explain_page_runs_a_query_for_a_superuser(
    browser: WebDriver, live_server: LiveServer, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("opsroot", "root@example.com", "pw")
    browser.delete_all_cookies()
    log_in_as(browser, live_server, root)
    browser.get_log("browser")
    browser.get(live_server.url + reverse("admin:ops_explain"))
    box = browser.find_element(By.ID, "explain-query")
    box.send_keys("SELECT count(*) FROM claims_claim WHERE status = 'paid'")
    browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()
    # The POST runs EXPLAIN ANALYZE server-side: wait for the result page rather than racing it.
    tree = WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "plan-tree")).text
    assert "Aggregate" in tree
    screenshot(browser, "ops-explain")
    assert console_errors(browser) == []
