"""Duplicate, replacement and void decisions (claims.ingest_rules, pure) and how ingest applies them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from claims import ingest_rules
from claims.ingest_rules import Incoming, OnFile, decide, fingerprint, fingerprint_lines
from claims.lifecycle import ClaimStatus
from claims.models import Claim, ClaimRelation
from claims.services.ingest import batch_ingest, claims_on_file
from claims.x12.parser837 import parse_837

DAY = dt.date(2026, 10, 5)
MULTI_LINE = "837P/lfh/demo.drug.example10.2.837"  # one claim, six service lines
UHIN = "837P/uhin/837.edi"


def _fp(lines: list[tuple[int, str, str]], *, number: str = "C1") -> ingest_rules.Fingerprint:
    return fingerprint(
        billing_provider_id=7,
        member_id=3,
        claim_number=number,
        service_date_from=DAY,
        service_date_to=DAY,
        total_charge=Decimal("150.00"),
        lines=fingerprint_lines((n, code, Decimal(charge)) for n, code, charge in lines),
    )


def test_fingerprint_orders_lines_by_line_number_not_by_file_order() -> None:
    in_order = _fp([(1, "99213", "100.00"), (2, "36415", "50.00")])
    sent_backwards = _fp([(2, "36415", "50.00"), (1, "99213", "100.00")])
    other_codes = _fp([(1, "36415", "100.00"), (2, "99213", "50.00")])

    assert in_order == sent_backwards
    assert in_order != other_codes


def test_duplicate_of_a_claim_on_file_is_linked_not_decided() -> None:
    fp = _fp([(1, "99213", "150.00")])
    on_file = [OnFile(10, DAY, ClaimStatus.APPROVED, "1", "", fp)]

    decisions = decide([Incoming(20, DAY, "1", 40, fp)], on_file)

    (d,) = decisions.claims
    # The link only: the engine denies it (CARC 18) when it decides the claim.
    assert (d.related, d.relation) == ((10, DAY), ClaimRelation.DUPLICATE_OF)
    assert decisions.warnings == []


def test_replacement_then_void_in_one_file_link_in_a_chain() -> None:
    fp = _fp([(1, "99213", "150.00")])
    changed = _fp([(1, "99214", "150.00")])
    on_file = [OnFile(10, DAY, ClaimStatus.APPROVED, "1", "", fp)]

    decisions = decide([Incoming(20, DAY, "7", 40, changed), Incoming(21, DAY, "8", 80, changed)], on_file)

    replacement, void = decisions.claims
    # The replacement names the claim on file; the void names the replacement, the latest of the series.
    assert (replacement.related, replacement.relation) == ((10, DAY), ClaimRelation.REPLACES)
    assert (void.related, void.relation) == ((20, DAY), ClaimRelation.VOIDS)
    assert decisions.warnings == []


def test_a_second_void_of_one_original_in_a_file_warns_instead_of_linking() -> None:
    fp = _fp([(1, "99213", "150.00")])
    on_file = [OnFile(10, DAY, ClaimStatus.APPROVED, "1", "", fp)]

    decisions = decide([Incoming(20, DAY, "8", 40, fp), Incoming(21, DAY, "8", 80, fp)], on_file)

    first, second = decisions.claims
    assert (first.related, first.relation) == ((10, DAY), ClaimRelation.VOIDS)
    assert (second.related, second.relation) == (None, "")
    assert [(w.position, w.element) for w in decisions.warnings] == [(80, "CLM05-3")]


def test_void_with_no_original_warns_at_its_clm_segment() -> None:
    decisions = decide([Incoming(20, DAY, "8", 57, _fp([(1, "99213", "150.00")]))], [])

    assert decisions.claims[0].related is None
    (warning,) = decisions.warnings
    assert (warning.position, warning.segment, warning.element) == (57, "CLM", "CLM05-3")
    assert warning.message == "void of claim 'C1': no original on file"


@pytest.mark.django_db
def test_sql_and_python_fingerprints_of_a_stored_claim_agree(shared_x12: Path) -> None:
    result = batch_ingest(path=shared_x12 / MULTI_LINE)
    claim = Claim.objects.get(batch=result.batch)
    parsed = parse_837((shared_x12 / MULTI_LINE).read_bytes(), MULTI_LINE).claims[0]
    assert len(parsed.lines) == 6

    (stored,) = claims_on_file({(claim.billing_provider_id, claim.claim_number)})

    from_file = fingerprint(
        billing_provider_id=claim.billing_provider_id,
        member_id=claim.member_id,
        claim_number=parsed.claim_number,
        service_date_from=parsed.service_date_from,
        service_date_to=parsed.service_date_to,
        total_charge=parsed.total_charge,
        # The file's lines in reverse: the fingerprint puts them back in LX order, as the SQL does.
        lines=fingerprint_lines(
            (ln.line_number, ln.procedure_code, ln.charge) for ln in reversed(parsed.lines)
        ),
    )
    assert stored.fingerprint == from_file
