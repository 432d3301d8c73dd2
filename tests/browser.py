"""Headless Debian Chromium driven by Selenium, for the browser tests (admin, analytics pages).

Debian's ``chromium`` and ``chromium-driver`` (scripts/browser.sh installs them; ``make test`` runs it), never a
test tool's own browser download. Pages come from pytest-django's ``live_server`` in another thread, so tests
that use it are transactional. Screenshots go to test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# Seconds to wait for a page after a click or a key press; a local page loads in well under one.
WAIT = 10


@contextmanager
def chromium(profile_dir: Path, *, window: str = "1366,900") -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile in ``profile_dir``; starting one costs about a second."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing: run 'make browser' (Debian's chromium packages)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # A test must not depend on the network (CI machines may have none): every flag that would make Chromium
    # call home is off, and the profile is a fresh folder, so nothing from an earlier run leaks into a test.
    for flag in (
        "--headless",
        "--no-sandbox",  # runs as root in CI, where the sandbox refuses to start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={window}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_argument(f"--user-data-dir={profile_dir}")
    # Both paths given, so Selenium Manager never looks for (or downloads) a browser or driver.
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the whole page, not only the window, as test-artifacts/screenshots/<name>.png.

    The viewport is made as tall as the page for the shot: capturing beyond a 900-pixel viewport would cut
    the admin's sticky navigation sidebar, whose height is 100vh, at 900 pixels. The width stays the window's,
    so a wide table keeps its own scroll bar as a person sees it instead of the page being laid out wider.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width = math.ceil(metrics["cssLayoutViewport"]["clientWidth"])
    height = math.ceil(metrics["cssContentSize"]["height"])
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path = SCREENSHOTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def log_in_as(driver: WebDriver, live_server: LiveServer, user: Any) -> None:
    """Give the browser a logged-in session without typing (the admin's login form has its own test)."""
    client = Client()
    client.force_login(user)
    # A cookie can only be set for the site the browser is on.
    driver.get(live_server.url + reverse("admin:login"))
    driver.add_cookie(
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    )


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """SEVERE console entries since the last read: JavaScript errors and failed loads, bar a missing favicon."""
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]
