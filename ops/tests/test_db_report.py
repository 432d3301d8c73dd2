"""manage.py db_report: every section as text, and as one JSON document."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def test_json_report_has_every_section_and_flags_the_default_partition() -> None:
    import datetime as dt

    ClaimFactory(service_date_from=dt.date(2099, 3, 1))
    out = StringIO()
    call_command("db_report", "--json", "--limit", "3", stdout=out)
    report = json.loads(out.getvalue())
    assert set(report) == {"slow_queries", "indexes", "tables", "partitions", "advisor"}
    flagged = [p["name"] for p in report["partitions"] if p["default_with_rows"]]
    assert flagged == ["claims_claim_default"]
    assert any(t["name"] == "claims_claim" and t["kind"] == "partitioned" for t in report["tables"]["rows"])
    assert report["indexes"]["declared_problems"] == [] or all(
        p["model"].startswith("ops.") for p in report["indexes"]["declared_problems"]
    )


def test_text_report_prints_section_headings() -> None:
    out = StringIO()
    call_command("db_report", "--section", "tables", "--section", "partitions", stdout=out)
    text = out.getvalue()
    assert "== Tables (database cache hit" in text and "== Partitions" in text
    assert "claims_claim_default" in text and "== Slow queries" not in text
