"""Every file in ../shared/data/x12: exactly what loads, or the rejection and where it points."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, Sum

from claims.models import Claim, ClaimLine, IngestBatch, IngestStatus
from claims.services.ingest import batch_ingest
from members.models import Member

# file, claims, lines, total charge (sum of CLM02), warnings recorded on the batch
LOADED = [
    ("837P/imsweb/x12_ambiguous_loop.txt", 1, 1, "500", 2),
    ("837P/imsweb/x12_loop_errors1_exceeds_max_1_parent.txt", 1, 1, "500", 4),
    ("837P/imsweb/x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt", 2, 2, "1000", 9),
    ("837P/imsweb/x12_many_claims.txt", 820, 820, "410000", 4099),
    ("837P/imsweb/x12_multiple_isa.txt", 4, 4, "2000", 18),
    ("837P/imsweb/x12_multiple_st.txt", 4, 4, "2000", 19),
    ("837P/imsweb/x12_no_errors.txt", 2, 2, "1000", 9),
    ("837P/imsweb/x12_segment_errors.txt", 1, 1, "500", 2),
    ("837P/imsweb/x12_segments_out_of_order.txt", 2, 2, "1000", 9),
    ("837P/imsweb/x12_valid.txt", 2, 2, "1000", 9),
    ("837P/imsweb/x12_writer_test.txt", 1, 1, "500", 2),
    ("837P/lfh/demo.837", 1, 4, "100", 2),
    ("837P/lfh/demo.autoaccident.837", 1, 2, "185.00", 2),
    ("837P/lfh/demo.cob.example3.A.837", 1, 3, "79.04", 2),
    ("837P/lfh/demo.cob.example3.B.837", 1, 3, "79.04", 2),
    ("837P/lfh/demo.cob.example4.837", 1, 1, "120.00", 2),
    ("837P/lfh/demo.drug.example10.1.837", 1, 2, "103.37", 2),
    # REF*EI "10-1234567": an EIN with a hyphen is not stored, with a warning (claims.x12.parser837.on_ref).
    ("837P/lfh/demo.drug.example10.2.837", 1, 6, "2232.93", 3),
    ("837P/lfh/demo.example1.837", 1, 4, "100.00", 2),
    ("837P/lfh/demo.example12.837", 1, 1, "252.71", 3),
    ("837P/lfh/demo.example2.837", 1, 4, "100.00", 2),
    ("837P/lfh/demo.example6.837", 1, 1, "145.50", 3),
    ("837P/lfh/demo.example7.837", 1, 2, "520.24", 2),
    ("837P/lfh/demo.example8.837", 1, 1, "75.00", 2),
    ("837P/oopfactory/Example1_HealthInsurance.txt", 1, 4, "100", 2),
    ("837P/oopfactory/Example2_Encounter.txt", 1, 4, "100", 2),
    ("837P/oopfactory/Example3_COB.txt", 1, 3, "79.04", 2),
    ("837P/oopfactory/MissingEntityCode.txt", 5, 10, "499.95", 5),
    ("837P/uhin/837.edi", 1, 1, "2", 0),
]

# file, segment position, segment id, element, start of the message
REJECTED_837 = [
    ("837P/imsweb/x12_bad_valid_code.txt", 22, "CLM", "", "claim has no billing provider"),
    ("837P/imsweb/x12_loop_errors3_missing_loops.txt", 16, "CLM", "", "claim has no billing provider"),
    ("837P/imsweb/x12_missing_elements.txt", 31, "CLM", "CLM05-1", "place of service code is missing"),
    ("837P/imsweb/x12_missing_required_loop_in_one_repeat.txt", 21, "CLM", "", "claim has no subscriber"),
    ("837P/imsweb/x12_missing_required_loops_mult_repeats.txt", 33, "SV1", "", "SV1 outside a service line"),
]

NOT_837 = ["270", "271", "835"]


def test_every_837p_sample_is_covered(shared_x12: Path) -> None:
    listed = {f for f, *_ in LOADED} | {f for f, *_ in REJECTED_837}
    on_disk = {str(p.relative_to(shared_x12)) for p in (shared_x12 / "837P").rglob("*") if p.is_file()}
    assert on_disk == listed


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "claims", "lines", "total", "warnings"), LOADED)
def test_sample_loads_exact_counts(
    shared_x12: Path, name: str, claims: int, lines: int, total: str, warnings: int
) -> None:
    result = batch_ingest(path=shared_x12 / name)

    batch = result.batch
    assert batch.status == (IngestStatus.LOADED_WITH_WARNINGS if warnings else IngestStatus.LOADED)
    stored = Claim.objects.filter(batch=batch).aggregate(n=Count("id"), total=Sum("total_charge"))
    assert stored == {"n": claims, "total": Decimal(total)}
    assert ClaimLine.objects.filter(claim__batch=batch).count() == lines
    assert (batch.claim_count, batch.line_count, batch.total_charge) == (claims, lines, Decimal(total))
    assert batch.warning_count == len(batch.warnings) == warnings
    assert all(w["position"] > 0 and w["segment"] and w["message"] for w in batch.warnings)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "position", "segment", "element", "message"), REJECTED_837)
def test_unmappable_837_is_rejected_whole(
    shared_x12: Path, name: str, position: int, segment: str, element: str, message: str
) -> None:
    members_before = Member.objects.count()

    result = batch_ingest(path=shared_x12 / name)

    assert result.rejected
    (error,) = result.batch.errors
    assert (error["position"], error["segment"], error["element"]) == (position, segment, element)
    assert error["message"].startswith(message)
    assert str(shared_x12 / name) in result.error and f"segment {position}" in result.error
    # Nothing from the file is written, not even the parties of the claims before the bad one.
    assert Claim.objects.count() == 0
    assert Member.objects.count() == members_before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", NOT_837)
def test_other_transactions_are_rejected_as_not_837(shared_x12: Path, kind: str) -> None:
    files = sorted(p for p in (shared_x12 / kind).rglob("*") if p.is_file())
    assert files
    for path in files:
        result = batch_ingest(path=path)
        assert result.rejected, path
        (error,) = result.batch.errors
        assert error["segment"] == "GS" and error["element"] == "GS01", path
        assert "is not HC (health care claim): this is not an 837" in error["message"]
    assert Claim.objects.count() == 0
    assert IngestBatch.objects.filter(status=IngestStatus.REJECTED).count() == len(files)
