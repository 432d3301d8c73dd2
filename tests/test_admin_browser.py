"""The admin in a real browser: Debian's headless Chromium, driven by Selenium through /usr/bin/chromedriver.

tests/test_admin.py checks what the server renders; these tests check what a person gets: the login form
submitted by typing, the search box, the inlines as the admin's JavaScript leaves them, and a console free of
JavaScript errors. ``make test`` installs the browser when missing (scripts/browser.sh). Every page is saved
as a full-page screenshot in test-artifacts/screenshots/ for a person to look at.

The pages are served by pytest-django's ``live_server`` from another thread, so the data must be committed:
these tests are transactional, and pytest-django empties the tables after each one (the monthly partitions
that conftest.py creates stay).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from claims.admin import ClaimAdmin
from claims.models import Claim, ClaimStatus
from claims.tests.factories import ClaimFactory, ClaimLineFactory, ClaimStatusHistoryFactory
from members.models import Member, MemberPII
from members.tests.factories import HealthPlanFactory, MemberFactory, MemberPIIFactory
from ops.models import AuditAction, AuditEvent
from providers.models import Provider
from providers.tests.factories import ProviderFactory
from tests.browser import WAIT, chromium, console_errors, log_in_as, screenshot
from tests.owner import admin_execute

pytestmark = pytest.mark.django_db(transaction=True)

# Written into the statistics of this month's claims partition, so the list says it is estimating.
ESTIMATED_CLAIMS = 1_234_567
PASSWORD = "browser-test-pw"


# --- browser ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """One headless Chromium for the module: starting one costs about a second, a test a few hundred ms."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture
def page(browser: WebDriver) -> Iterator[WebDriver]:
    """The module's browser with no cookies and an empty console log at the start of a test."""
    browser.delete_all_cookies()
    browser.get_log("browser")  # reading the log empties it
    yield browser


def open_page(driver: WebDriver, live_server: LiveServer, path: str, name: str) -> None:
    driver.get(live_server.url + path)
    screenshot(driver, name)


def wait_for_url(driver: WebDriver, url: str) -> None:
    WebDriverWait(driver, WAIT).until(EC.url_to_be(url))


def texts(driver: WebDriver, css: str) -> list[str]:
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, css)]


def words(element: Any) -> str:
    """An element's visible text on one line: the admin lays the paginator out as flex items, one per line."""
    return " ".join(element.text.split())


# --- data ------------------------------------------------------------------------------------------------------


@dataclass
class World:
    superuser: Any
    member: Member
    pii: MemberPII
    provider: Provider
    claims: list[Claim]  # newest received first, as the changelist orders them


@pytest.fixture
def world(django_user_model: Any) -> World:
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    plan = HealthPlanFactory(name="Buckeye Mutual Health")
    member = MemberFactory(member_number="M000777001", last_name="Quimbley", first_name="Ada")
    pii = MemberPIIFactory(member=member, phone="6145550199", ssn="900-12-3456")
    provider = ProviderFactory(last_name="Hollowell", first_name="Grace")
    now = dt.datetime.now(dt.UTC)
    claims = []
    for i, (number, codes) in enumerate(
        [("ACME-1003", ["99214", "85025"]), ("ACME-1002", ["99213"]), ("ACME-1001", ["97110"])]
    ):
        claim = ClaimFactory(
            claim_number=number,
            member=member,
            health_plan=plan,
            billing_provider=provider,
            received_at=now - dt.timedelta(minutes=i),
            total_charge=Decimal("125.00") * len(codes),
        )
        for line_number, code in enumerate(codes, start=1):
            ClaimLineFactory(claim=claim, line_number=line_number, procedure_code=code)
        claims.append(claim)
    newest = claims[0]
    ClaimStatusHistoryFactory(
        claim=newest, from_status="", to_status=ClaimStatus.RECEIVED, note="loaded from acme file"
    )
    ClaimStatusHistoryFactory(
        claim=newest,
        from_status=ClaimStatus.RECEIVED,
        to_status=ClaimStatus.DENIED,
        changed_at=newest.received_at + dt.timedelta(seconds=5),
        source="adjudication",
        note="no active coverage",
    )
    return World(superuser, member, pii, provider, claims)


@pytest.fixture
def estimated_claims(world: World) -> Iterator[int]:
    """Make the statistics say this month's claims partition holds ESTIMATED_CLAIMS rows, then put them back.

    The live server reads them from another connection, so the change is committed (only a superuser may write
    pg_class: the administrative connection, tests/owner.py) and must be undone by hand.
    """
    partition = f"claims_claim_p{dt.datetime.now(dt.UTC):%Y_%m}"
    ((before,),) = admin_execute(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", params=[partition]
    )
    admin_execute(
        "UPDATE pg_class SET reltuples = %s WHERE oid = %s::regclass", params=[ESTIMATED_CLAIMS, partition]
    )
    try:
        yield ESTIMATED_CLAIMS
    finally:
        admin_execute(
            "UPDATE pg_class SET reltuples = %s WHERE oid = %s::regclass", params=[before, partition]
        )


def _change_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# --- tests -----------------------------------------------------------------------------------------------------


def test_superuser_logs_in_through_the_form_and_lands_on_the_admin_index(
    page: WebDriver, live_server: LiveServer, world: World
) -> None:
    page.get(live_server.url + reverse("admin:index"))
    # Not logged in: the admin sends the browser to its login form, remembering where it was going.
    assert page.current_url == f"{live_server.url}{reverse('admin:login')}?next={reverse('admin:index')}"
    page.find_element(By.ID, "id_username").send_keys(world.superuser.username)
    page.find_element(By.ID, "id_password").send_keys(PASSWORD)
    screenshot(page, "login")

    page.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()

    wait_for_url(page, live_server.url + reverse("admin:index"))
    screenshot(page, "admin-index")
    assert page.find_element(By.CSS_SELECTOR, "#content h1").text == "Site administration"
    assert "ROOT" in page.find_element(By.ID, "user-tools").text.upper()
    modules = texts(page, "#content-main .module caption")
    assert {"CLAIMS", "MEMBERS", "PROVIDERS"} <= {m.upper() for m in modules}
    assert "Claims" in texts(page, "#content-main .module th[scope=row] a")


def test_wrong_password_stays_on_the_login_form_with_an_error(
    page: WebDriver, live_server: LiveServer, world: World
) -> None:
    page.get(live_server.url + reverse("admin:login"))
    page.find_element(By.ID, "id_username").send_keys(world.superuser.username)
    page.find_element(By.ID, "id_password").send_keys("not-the-password", Keys.ENTER)

    WebDriverWait(page, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".errornote")))
    assert page.current_url.startswith(live_server.url + reverse("admin:login"))
    assert "correct username and password" in page.find_element(By.CSS_SELECTOR, ".errornote").text


def test_claims_list_shows_the_claims_and_an_estimated_count(
    page: WebDriver, live_server: LiveServer, world: World, estimated_claims: int
) -> None:
    log_in_as(page, live_server, world.superuser)

    # Every service month (the list shows the recent months by default, counted up to the limit).
    url = reverse("admin:claims_claim_changelist") + "?service_month=all"
    open_page(page, live_server, url, "claims-changelist")

    assert texts(page, "#result_list th.field-claim_number") == [c.claim_number for c in world.claims]
    # templates/admin/pagination.html: the planner's figure, said to be an estimate.
    estimate = page.find_element(By.CSS_SELECTOR, "p.paginator .estimated-count")
    assert estimate.text == f"about {estimated_claims:,}"
    assert "Estimated from PostgreSQL table statistics" in (estimate.get_attribute("title") or "")
    # ClaimAdmin.list_per_page claims a page: the last page number offered is the estimate's.
    last_page = math.ceil(estimated_claims / ClaimAdmin.list_per_page)
    assert words(page.find_element(By.CSS_SELECTOR, "p.paginator")).endswith(
        f"{last_page - 1} {last_page} about {estimated_claims:,} claims (estimated)"
    )
    # templates/admin/search_form.html: the count beside the search box is said to be an estimate too.
    beside_search = page.find_element(By.CSS_SELECTOR, "#changelist-search .small.quiet")
    assert words(beside_search) == f"about {estimated_claims:,} results (estimated) (Show all)"


def test_searching_a_claim_number_lists_only_that_claim(
    page: WebDriver, live_server: LiveServer, world: World, estimated_claims: int
) -> None:
    wanted = world.claims[1]
    log_in_as(page, live_server, world.superuser)
    page.get(live_server.url + reverse("admin:claims_claim_changelist"))

    # Lower case on purpose: claim numbers are matched whatever their case (claimnumber_upper_idx).
    page.find_element(By.ID, "searchbar").send_keys(wanted.claim_number.lower(), Keys.ENTER)

    WebDriverWait(page, WAIT).until(EC.url_contains("q="))
    screenshot(page, "claims-search")
    assert texts(page, "#result_list th.field-claim_number") == [wanted.claim_number]
    # A search is counted exactly (at most EXACT_COUNT_LIMIT rows), never estimated.
    assert page.find_elements(By.CSS_SELECTOR, "p.paginator .estimated-count") == []
    assert words(page.find_element(By.CSS_SELECTOR, "p.paginator")) == "1 claim"
    assert page.find_element(By.ID, "searchbar").get_attribute("value") == wanted.claim_number.lower()


def test_claim_page_shows_its_lines_and_read_only_status_history(
    page: WebDriver, live_server: LiveServer, world: World
) -> None:
    claim = world.claims[0]
    log_in_as(page, live_server, world.superuser)

    open_page(page, live_server, _change_url(claim), "claim-change")

    # A claim is a record of what the submitter sent: its fields are read-only text, not inputs.
    assert page.find_element(By.CSS_SELECTOR, ".field-claim_number .readonly").text == claim.claim_number
    lines = page.find_elements(By.CSS_SELECTOR, "#lines-group tr.form-row.has_original")
    codes = [
        row.find_element(By.CSS_SELECTOR, "td.field-procedure_code input").get_attribute("value")
        for row in lines
    ]
    assert codes == ["99214", "85025"]

    history = page.find_element(By.ID, "status_history-group")
    rows = history.find_elements(By.CSS_SELECTOR, "tr.form-row.has_original")
    assert [row.find_element(By.CSS_SELECTOR, "td.field-to_status").text for row in rows] == [
        "Received",
        "Denied",
    ]
    assert [row.find_element(By.CSS_SELECTOR, "td.field-note").text for row in rows] == [
        "loaded from acme file",
        "no active coverage",
    ]
    # Read-only: no inputs in the history, and no "Add another" link to be seen (inlines.js adds one to every
    # tabular inline, and hides it when max_num, 0 without add permission, is reached).
    assert history.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea") == []
    assert [row for row in history.find_elements(By.CSS_SELECTOR, ".add-row") if row.is_displayed()] == []
    # The lines inline, editable, offers one.
    assert [
        row.text for row in page.find_elements(By.CSS_SELECTOR, "#lines-group .add-row") if row.is_displayed()
    ] == ["Add another Claim line"]


def test_pages_run_their_javascript_without_console_errors(
    page: WebDriver, live_server: LiveServer, world: World, estimated_claims: int
) -> None:
    log_in_as(page, live_server, world.superuser)
    page.get_log("browser")

    errors: dict[str, list[dict[str, Any]]] = {}
    claim_add = reverse("admin:claims_claim_add")
    for path in (
        reverse("admin:index"),
        reverse("admin:claims_claim_changelist"),
        _change_url(world.claims[0]),
        claim_add,
        _change_url(world.member),
        _change_url(world.provider),
    ):
        page.get(live_server.url + path)
        errors[path] = console_errors(page)
        if path == claim_add:
            # Proof the admin's scripts ran, not only that nothing complained: select2 widgets for the
            # autocomplete fields are built by JavaScript (the change page is read-only and has none).
            assert len(page.find_elements(By.CSS_SELECTOR, ".select2-container")) >= 4
        if path == _change_url(world.claims[0]):
            # The lines inline stays editable for superusers: its date shortcuts are JavaScript too.
            assert page.find_elements(By.CSS_SELECTOR, ".datetimeshortcuts")

    assert errors == dict.fromkeys(errors, [])


def test_staff_without_the_pii_permission_sees_the_member_but_not_the_pii(
    page: WebDriver, live_server: LiveServer, world: World, django_user_model: Any
) -> None:
    clerk = django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    # Change permission on MemberPII is not enough: seeing PHI needs members.view_memberpii itself.
    clerk.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="members",
            codename__in=["view_member", "change_member", "change_memberpii"],
        )
    )
    log_in_as(page, live_server, clerk)

    open_page(page, live_server, _change_url(world.member), "member-change-without-pii")

    assert page.find_element(By.ID, "id_member_number").get_attribute("value") == world.member.member_number
    assert page.find_element(By.ID, "id_last_name").get_attribute("value") == "Quimbley"
    assert page.find_elements(By.ID, "pii-group") == []
    source = page.page_source
    assert world.pii.ssn not in source and world.pii.phone not in source
    assert "member PII" not in page.find_element(By.ID, "content").text


def test_superuser_sees_the_pii_masked_and_reveals_it_with_a_reason(
    page: WebDriver, live_server: LiveServer, world: World
) -> None:
    # The other side of the test above: the inline exists for someone allowed, masked; the full values need the
    # reveal page, a reason, and leave an audit row.
    log_in_as(page, live_server, world.superuser)

    open_page(page, live_server, _change_url(world.member), "member-change-with-pii")

    group = page.find_element(By.ID, "pii-group")
    assert "***-**-3456" in group.text and "***-***-0199" in group.text
    assert world.pii.ssn not in page.page_source and world.pii.phone not in page.page_source
    group.find_element(By.ID, "pii-reveal").click()
    reason = WebDriverWait(page, WAIT).until(EC.presence_of_element_located((By.ID, "id_reason")))
    reason.send_keys("member called about a claim, verifying identity")
    page.find_element(By.CSS_SELECTOR, "#pii-reveal-form input[type=submit]").click()
    table = WebDriverWait(page, WAIT).until(EC.presence_of_element_located((By.ID, "pii-revealed")))
    assert world.pii.ssn in table.text and world.pii.phone in table.text
    screenshot(page, "member-pii-revealed")
    assert console_errors(page) == []
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert (event.object_id, event.reason) == (
        str(world.pii.pk),
        "member called about a claim, verifying identity",
    )
