"""An examiner's day in a real browser (Debian's headless Chromium, tests/browser.py): log in, open the work
queue, deny a pended claim with a CARC through the intermediate page, and find it denied on its claim page.

tests/test_admin.py checks the same pages as the server renders them; this checks what a person gets: the
changelist's checkbox and action menu as the admin's JavaScript leaves them, the CARC select, the message, and
a console free of JavaScript errors. Screenshots go to test-artifacts/screenshots/examiner-*.png.
Transactional (the live server reads from another connection); pytest-django empties the tables after it.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from claims.adjudication.edits import PendReason
from claims.models import Claim, ClaimAdjustment, ClaimStatus, ClaimStatusHistory
from claims.tests.factories import ClaimFactory, ClaimLineFactory
from members.tests.factories import EnrollmentFactory, HealthPlanFactory, MemberFactory
from tests.browser import WAIT, chromium, console_errors, log_in_as, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

EXAMINERS = "claims examiners"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture
def examiner(django_user_model: Any) -> Any:
    # The group comes from claims/migrations/0013; a transactional test's flush empties auth_group, so it is
    # made again here by the migration's own (idempotent) function.
    if not Group.objects.filter(name=EXAMINERS).exists():
        importlib.import_module("claims.migrations.0013_examiner_groups").create_groups(apps, None)
    user = django_user_model.objects.create_user("examiner-anna", password="unused", is_staff=True)
    user.groups.add(Group.objects.get(name=EXAMINERS))
    return user


@pytest.fixture
def pended() -> list[Claim]:
    """Two pended claims, oldest first: the examiner denies the second."""
    plan = HealthPlanFactory(name="Buckeye Mutual Health")
    member = MemberFactory()
    EnrollmentFactory(member=member, plan=plan)
    claims = []
    for days, number in ((9, "EXAM-0001"), (3, "EXAM-0002")):
        claim = ClaimFactory(
            claim_number=number,
            member=member,
            health_plan=plan,
            status=ClaimStatus.PENDED,
            pend_reason=PendReason.MODIFIER_22,
            received_at=timezone.now() - dt.timedelta(days=days),
            total_charge=Decimal("250.00"),
        )
        ClaimLineFactory(claim=claim, line_number=1, procedure_code="99214", charge=Decimal("150.00"))
        ClaimLineFactory(claim=claim, line_number=2, procedure_code="85025", charge=Decimal("100.00"))
        claims.append(claim)
    return claims


def test_examiner_denies_a_pended_claim_with_a_carc_from_the_work_queue(
    browser: WebDriver, live_server: LiveServer, examiner: Any, pended: list[Claim]
) -> None:
    page = browser
    page.delete_all_cookies()
    page.get_log("browser")
    target = pended[1]
    log_in_as(page, live_server, examiner)

    page.get(live_server.url + reverse("admin:claims_workqueueclaim_changelist"))
    screenshot(page, "examiner-work-queue")
    rows = page.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "th.field-claim_number").text for r in rows] == [
        "EXAM-0001",
        "EXAM-0002",
    ]
    assert {r.find_element(By.CSS_SELECTOR, "td.field-pend_reason_shown").text for r in rows} == {
        "Modifier 22 (increased procedural services)"
    }

    page.find_element(By.CSS_SELECTOR, f"input.action-select[value='{target.pk}']").click()
    Select(page.find_element(By.CSS_SELECTOR, "select[name=action]")).select_by_value("deny")
    page.find_element(By.CSS_SELECTOR, "button[name=index]").click()

    # The intermediate page: the claims it acts on, and the CARC select showing code and meaning.
    WebDriverWait(page, WAIT).until(EC.presence_of_element_located((By.ID, "work-queue-action-form")))
    assert page.find_element(By.CSS_SELECTOR, ".selected-claims").text == "EXAM-0002"
    carc = Select(page.find_element(By.ID, "id_carc"))
    assert "50 — Not deemed a medical necessity by the payer" in [o.text for o in carc.options]
    carc.select_by_value("50")
    page.find_element(By.ID, "id_rarc").send_keys("N115")
    screenshot(page, "examiner-deny-form")
    page.find_element(By.CSS_SELECTOR, "input[name=apply]").click()

    WebDriverWait(page, WAIT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success"))
    )
    screenshot(page, "examiner-work-queue-after-deny")
    assert (
        "Denied 1 claim(s) with CARC 50" in page.find_element(By.CSS_SELECTOR, ".messagelist .success").text
    )
    # The denied claim has left the queue; the other waits.
    assert [e.text for e in page.find_elements(By.CSS_SELECTOR, "#result_list th.field-claim_number")] == [
        "EXAM-0001"
    ]

    page.get(live_server.url + reverse("admin:claims_claim_change", args=[target.pk]))
    screenshot(page, "examiner-claim-denied")
    assert page.find_element(By.CSS_SELECTOR, ".field-status .readonly").text == "Denied"
    assert (
        page.find_element(By.CSS_SELECTOR, ".field-denial_carc .readonly").text
        == "50 — Not deemed a medical necessity by the payer"
    )
    adjudication = page.find_element(By.CSS_SELECTOR, ".field-adjudication_table").text
    assert "CO-50 (N115) 150.00" in adjudication and "CO-50 (N115) 100.00" in adjudication
    assert "balances" in adjudication
    history = page.find_elements(By.CSS_SELECTOR, "#status_history-group tr.form-row.has_original")
    assert history[-1].find_element(By.CSS_SELECTOR, "td.field-changed_by").text == "examiner-anna"
    assert console_errors(page) == []

    claim = Claim.objects.get(pk=target.pk)
    assert (claim.status, claim.denial_reason_code, claim.total_paid) == ("denied", "50", Decimal("0.00"))
    assert ClaimAdjustment.objects.filter(claim_id=target.pk).count() == 2
    assert ClaimStatusHistory.objects.get(claim_id=target.pk).changed_by_id == examiner.pk
    assert Claim.objects.get(pk=pended[0].pk).status == ClaimStatus.PENDED
