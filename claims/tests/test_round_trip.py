"""What the 837P writer writes, ingest loads back as the same claims (parties, codes, lines, money)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from claims.models import Claim, ClaimStatus
from claims.services.ingest import batch_ingest
from claims.services.validation import batch_validate
from claims.x12.model import X12Claim
from claims.x12.writer import write_837p
from members.models import Member
from ops.synthetic.x12_files import build_universe, iter_demo_claims

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(tmp_path: Path) -> tuple[list[X12Claim], Path]:
    universe = build_universe(seed=23, claims_hint=80)
    claims = list(iter_demo_claims(universe, count=80))
    text = write_837p(
        claims,
        sender_id="DEMOSUBMITTER",
        receiver_id="DEMOPAYERS",
        control_number=99,
        created=dt.datetime(2026, 10, 1, 8, 0),
        max_claims_per_transaction=30,
    )
    path = tmp_path / "roundtrip.837"
    path.write_text(text)
    return claims, path


def _expected(c: X12Claim) -> dict[str, object]:
    return {
        "claim_number": c.claim_number,
        "billing_npi": c.billing_provider.npi,
        "rendering_npi": c.rendering_provider.npi if c.rendering_provider else None,
        "payer_id": c.plan.payer_id,
        "plan_type": c.plan.claim_filing_code,
        "subscriber_identifier": c.subscriber.member_id,
        "patient": (c.patient.last_name, c.patient.first_name, c.patient.date_of_birth, c.patient.gender),
        "relationship": c.patient.relationship_code,
        "place_of_service": c.place_of_service,
        "frequency_code": c.frequency_code,
        "diagnosis_codes": list(c.diagnosis_codes),
        "service_dates": (c.service_date_from, c.service_date_to),
        "total_charge": c.total_charge,
        "lines": [
            (
                line.line_number,
                line.procedure_code,
                list(line.modifiers),
                line.charge,
                line.units,
                list(line.diagnosis_pointers),
                line.service_date,
            )
            for line in c.lines
        ],
    }


def _loaded(claim: Claim) -> dict[str, object]:
    m = claim.member
    return {
        "claim_number": claim.claim_number,
        "billing_npi": claim.billing_provider.npi,
        "rendering_npi": claim.rendering_provider.npi if claim.rendering_provider else None,
        "payer_id": claim.health_plan.payer_id,
        "plan_type": claim.health_plan.plan_type,
        "subscriber_identifier": m.subscriber_identifier,
        "patient": (m.last_name, m.first_name, m.date_of_birth, m.gender),
        "relationship": m.relationship_code,
        "place_of_service": claim.place_of_service,
        "frequency_code": claim.frequency_code,
        "diagnosis_codes": claim.diagnosis_codes,
        "service_dates": (claim.service_date_from, claim.service_date_to),
        "total_charge": claim.total_charge,
        "lines": [
            (
                line.line_number,
                line.procedure_code,
                line.modifiers,
                line.charge,
                line.units,
                line.diagnosis_pointers,
                line.service_date,
            )
            for line in claim.lines.filter(service_date_from=claim.service_date_from).order_by("line_number")
        ],
    }


def test_written_claims_ingest_back_identically(written: tuple[list[X12Claim], Path]) -> None:
    demo, path = written

    result = batch_ingest(path=path)

    assert not result.rejected and result.warnings == 0, result.batch.warnings
    loaded = Claim.objects.select_related("member", "billing_provider", "rendering_provider", "health_plan")
    by_number = {c.claim_number: _loaded(c) for c in loaded.order_by("id")}
    assert len(by_number) == len(demo) == result.claims
    for c in demo:
        assert by_number[c.claim_number] == _expected(c), c.claim_number
    assert result.total_charge == sum((c.total_charge for c in demo), Decimal("0"))
    # One member per person, although a subscriber's date of birth is sent only on their own claims.
    people = {(c.subscriber.member_id, c.patient.last_name, c.patient.first_name) for c in demo}
    people |= {(c.subscriber.member_id, c.subscriber.last_name, c.subscriber.first_name) for c in demo}
    assert Member.objects.count() == len(people)
    dependents = Member.objects.exclude(subscriber=None).select_related("subscriber")
    assert dependents.exists()
    assert all(d.subscriber.subscriber_identifier == d.subscriber_identifier for d in dependents)


def test_written_file_validates_and_claims_become_validated(written: tuple[list[X12Claim], Path]) -> None:
    _, path = written
    result = batch_ingest(path=path)

    batch = batch_validate(batch_id=result.batch.id, path=path)

    assert batch.validation_status == "accepted", batch.validation_errors
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VALIDATED}
    assert list(Claim.objects.exclude(code_check_errors=[]).values_list("code_check_errors", flat=True)) == []
