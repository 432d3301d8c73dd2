"""Small-cell suppression on the ICD-10 explorer: analysts see no figure of fewer than 11 distinct patients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from analytics.models import DiagnosisMonthly, Icd10Code
from analytics.services.refresh import views_refresh
from analytics.tests.data import ensure_reference_data, make_user
from claims.tests.factories import ClaimFactory
from members.tests.factories import HealthPlanFactory, MemberFactory

pytestmark = pytest.mark.django_db

# Principal diagnoses in five chapters, 2025:
#   E119   12 patients, one claim each in March                 -> shown
#   I10    1 patient, a claim every month (12 patient-months)   -> suppressed: every month-and-plan cell has 1
#   J45909 3 patients in May                                    -> suppressed
#   K219   15 patients in June, 2 more in August                -> shown; August (2) a gap for analysts
#   M25561 20 patients in July                                  -> shown
CODES = ("E119", "I10", "J45909", "K219", "M25561")


def _claims(code: str, day: dt.date, count: int, plan: Any, member: Any = None) -> None:
    for _ in range(count):
        ClaimFactory(
            diagnosis_codes=[code],
            health_plan=plan,
            service_date_from=day,
            member=member or MemberFactory(),
        )


@pytest.fixture
def chapters() -> dict[str, str]:
    """Code -> its ICD-10-CM chapter, after loading the claims above and refreshing the views."""
    ensure_reference_data()
    plan = HealthPlanFactory()
    _claims("E119", dt.date(2025, 3, 10), 12, plan)
    one = MemberFactory()
    for month in range(1, 13):
        _claims("I10", dt.date(2025, month, 5), 1, plan, member=one)
    _claims("J45909", dt.date(2025, 5, 2), 3, plan)
    _claims("K219", dt.date(2025, 6, 3), 15, plan)
    _claims("K219", dt.date(2025, 8, 3), 2, plan)
    _claims("M25561", dt.date(2025, 7, 9), 20, plan)
    assert all(log.outcome == "success" for log in views_refresh(views=[DiagnosisMonthly]))
    found = dict(Icd10Code.objects.filter(code__in=CODES).values_list("code", "chapter"))
    assert len(set(found.values())) == len(CODES), found  # one chapter each
    return found


def _client(username: str, *, all_cells: bool) -> Client:
    user = make_user(get_user_model(), username, group=ensure_reference_data())
    if all_cells:
        user.user_permissions.add(Permission.objects.get(codename="view_small_cells"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def analyst() -> Client:
    return _client("analyst", all_cells=False)


@pytest.fixture
def officer() -> Client:
    """A privacy officer: an analyst who may see every cell."""
    return _client("officer", all_cells=True)


def _breakdown(client: Client, start: str, end: str) -> dict[str, Any]:
    response = client.get(reverse("analytics:api-icd10-breakdown"), {"start": start, "end": end})
    assert response.status_code == 200, response.content[:300]
    data: dict[str, Any] = response.json()
    return data


def test_analysts_get_no_row_of_fewer_than_eleven_patients(
    chapters: dict[str, str], analyst: Client, officer: Client
) -> None:
    everything = {r["key"]: r for r in _breakdown(officer, "2025-01", "2025-12")["rows"]}
    assert {k: everything[chapters[k]]["claims"] for k in CODES} == {
        "E119": 12,
        "I10": 12,
        "J45909": 3,
        "K219": 17,
        "M25561": 20,
    }
    # I10 has 12 patient-months, as many as E119, but they are one person's: only the distinct count tells.
    assert everything[chapters["I10"]]["patient_months"] == 12

    data = _breakdown(analyst, "2025-01", "2025-12")

    shown = {r["key"]: r for r in data["rows"]}
    assert set(shown) == {chapters["E119"], chapters["K219"], chapters["M25561"]}
    assert data["suppressed_rows"] == 2
    for key, row in shown.items():
        assert row == everything[key]

    page = analyst.get(reverse("analytics:icd10"), {"start": "2025-01", "end": "2025-12"})
    rows = {r.key: r for r in page.context["rows"]}
    assert {k for k, r in rows.items() if r.suppressed} == {chapters["I10"], chapters["J45909"]}
    assert rows[chapters["I10"]].claims is None and rows[chapters["I10"]].patient_months is None
    html = page.content.decode()
    assert html.count("suppressed (&lt;11 patients)") == 2 and "2 rows suppressed" in html


def test_a_lone_suppressed_row_takes_the_smallest_other_with_it(
    chapters: dict[str, str], analyst: Client, officer: Client
) -> None:
    # June to December: I10 (7 patient-months, 1 patient) would be the only small row; the chapter total one
    # level up less the others would give it away, so K219's chapter (17 claims, fewer than M25561's 20) goes too.
    assert len(_breakdown(officer, "2025-06", "2025-12")["rows"]) == 3

    data = _breakdown(analyst, "2025-06", "2025-12")

    assert [r["key"] for r in data["rows"]] == [chapters["M25561"]]
    assert data["suppressed_rows"] == 2


def test_months_of_one_to_ten_patients_are_gaps_for_analysts(
    chapters: dict[str, str], analyst: Client, officer: Client
) -> None:
    def series(client: Client) -> dict[str, list[int | None]]:
        response = client.get(reverse("analytics:api-icd10-monthly"), {"start": "2025-01", "end": "2025-12"})
        assert response.status_code == 200
        return {s["key"]: s["patients"] for s in response.json()["series"]}

    full, shown = series(officer), series(analyst)

    k219 = chapters["K219"]
    assert full[k219][5:8] == [15, 0, 2]  # June, July, August
    assert shown[k219][5:8] == [15, 0, None]
    assert chapters["I10"] in full and chapters["I10"] not in shown  # a suppressed row has no series either


def test_a_row_spread_thinly_over_the_months_is_hidden_even_of_twelve_patients(
    chapters: dict[str, str], analyst: Client, officer: Client
) -> None:
    # Twelve different patients, one a month: the view cannot tell them from I10's one patient seen monthly (both
    # are twelve cells of 1), and the pages read only the view, so the row is hidden (README "Analytics pages").
    plan = HealthPlanFactory()
    for month in range(1, 13):
        _claims("L309", dt.date(2025, month, 7), 1, plan)
    assert all(log.outcome == "success" for log in views_refresh(views=[DiagnosisMonthly]))
    chapter = Icd10Code.objects.get(code="L309").chapter
    assert chapter not in chapters.values()

    assert {r["key"]: r["claims"] for r in _breakdown(officer, "2025-01", "2025-12")["rows"]}[chapter] == 12
    assert chapter not in {r["key"] for r in _breakdown(analyst, "2025-01", "2025-12")["rows"]}
