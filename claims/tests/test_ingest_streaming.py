"""Streaming ingest: chunked loads match whole-file semantics, and any failure leaves nothing behind.

Issue 11: a file is read and written a chunk of claims at a time in one transaction; whatever goes wrong (the
parser, a value the database refuses, a defect of ours) records a rejected batch naming the place, and the
partitions made for the file go with the rest.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from claims.models import (
    Claim,
    ClaimLine,
    ClaimMonthCount,
    ClaimNumber,
    ClaimStatus,
    IngestBatch,
    IngestStatus,
)
from claims.services import ingest
from claims.services.ingest import batch_ingest, file_scan
from claims.services.lifecycle import months_holding
from members.models import Member
from ops.platform.partitioning import existing_partitions

SAMPLE = "837P/imsweb/x12_valid.txt"  # 2 claims, service dates 2005-03


def _sample_text(shared_x12: Path) -> str:
    return (shared_x12 / SAMPLE).read_text()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _refused_by_the_database(text: str) -> str:
    """The sample moved to 2001-03/-04 (months with no partition), its second line priced past ClaimLine.rvus:
    999,999 units of CPT 90834 is more RVUs than NUMERIC(8,2) holds, which only the database finds."""
    text = text.replace("DTP*472*RD8*20050314-20050325", "DTP*472*RD8*20010314-20010325")
    text = text.replace("DTP*472*RD8*20050322-20050325", "DTP*472*RD8*20010422-20010425")
    return text.replace("SV1*HC:478331:25*12.25*UN*1*", "SV1*HC:90834*12.25*UN*999999*")


@pytest.mark.django_db(transaction=True)
def test_a_value_the_database_refuses_rejects_the_file_at_its_segment_and_element(
    shared_x12: Path, tmp_path: Path
) -> None:
    path = _write(tmp_path, "refused.837", _refused_by_the_database(_sample_text(shared_x12)))
    members_before = Member.objects.count()
    assert "claims_claim_p2001_03" not in existing_partitions("claims_claim")

    result = batch_ingest(path=path, chunk_claims=1)

    assert result.rejected and result.created
    (error,) = result.batch.errors
    assert (error["position"], error["segment"], error["element"]) == (33, "LX", "SV1-04")
    assert "number out of range for the column" in error["message"]
    assert "999999" not in error["message"] and "90834" not in error["message"]
    # Nothing half-written: no claim, line, lookup row or member of the file, and no partition made for it.
    assert Claim.objects.count() == ClaimLine.objects.count() == ClaimNumber.objects.count() == 0
    assert Member.objects.count() == members_before
    for table in ("claims_claim", "claims_claimline"):
        assert not {f"{table}_p2001_03", f"{table}_p2001_04"} & existing_partitions(table)


@pytest.mark.django_db(transaction=True)
def test_a_defect_while_reading_rejects_the_file_and_logs_no_value(
    shared_x12: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from claims.x12 import parser837

    def broken(self: object, seg: object) -> None:
        raise ValueError("invalid literal: 'DOE JOHN 19990529'")  # what a real defect could quote

    monkeypatch.setattr(parser837._Parser, "on_hi", broken)
    path = _write(tmp_path, "defect.837", _sample_text(shared_x12))
    # The defect happens in the reader process: caplog sees only this one's records, a file both write to.
    log_file = tmp_path / "ingest.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger("claims").addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            result = batch_ingest(path=path)
    finally:
        logging.getLogger("claims").removeHandler(handler)
        handler.close()

    assert result.rejected
    (error,) = result.batch.errors
    assert error["position"] == 23  # the HI of the first claim
    assert "internal error (ValueError)" in error["message"]
    logged = log_file.read_text()
    assert "internal error ValueError at" in logged  # the reader's own record, with its code place
    assert "DOE" not in caplog.text and "DOE" not in logged and "DOE" not in str(result.batch.errors)
    assert Claim.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_folder_run_goes_on_past_a_refused_file_and_fails_at_the_end(
    shared_x12: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    _write(folder, "a_refused.837", _refused_by_the_database(_sample_text(shared_x12)))
    _write(folder, "b_good.837", _sample_text(shared_x12))

    with pytest.raises(CommandError) as failed:
        call_command("ingest_837", str(folder), "--no-validate", "--no-progress")

    assert "1 file(s) rejected" in str(failed.value)
    assert "a_refused.837: segment 33 (LX), element SV1-04" in str(failed.value)
    statuses = dict(IngestBatch.objects.values_list("file_name", "status"))
    assert statuses == {
        str(folder / "a_refused.837"): IngestStatus.REJECTED,
        str(folder / "b_good.837"): IngestStatus.LOADED_WITH_WARNINGS,
    }
    assert Claim.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_duplicates_are_found_across_chunks_as_within_one(shared_x12: Path, tmp_path: Path) -> None:
    """The same two claims twice in one file: read one claim per chunk, the second pair is still linked to the
    first as exact duplicates (earlier chunks are on file in the load's own transaction)."""
    text = _sample_text(shared_x12)
    twice = (
        text + "\n" + text.replace("*000000905*", "*000000906*").replace("IEA*1*000000905", "IEA*1*000000906")
    )
    path = _write(tmp_path, "twice.837", twice)

    result = batch_ingest(path=path, chunk_claims=1)

    assert (result.claims, result.duplicates) == (4, 2)
    claims = list(Claim.objects.order_by("id").values_list("id", "related_claim_id", "relation"))
    assert [(r, rel) for _, r, rel in claims] == [
        (None, ""),
        (None, ""),
        (claims[0][0], "duplicate_of"),
        (claims[1][0], "duplicate_of"),
    ]


@pytest.mark.django_db  # rolled back, partitions included: retention tests meet no old month of ours
def test_every_loaded_claim_is_in_the_claim_number_lookup(shared_x12: Path) -> None:
    for name in ("837P/imsweb/x12_many_claims.txt", "837P/lfh/demo.837", "837P/imsweb/x12_multiple_isa.txt"):
        assert not batch_ingest(path=shared_x12 / name).rejected
    on_file = set(Claim.objects.values_list("id", "service_date_from", "billing_provider_id", "claim_number"))
    lookup = set(
        ClaimNumber.objects.values_list(
            "claim_id", "service_date_from", "billing_provider_id", "claim_number"
        )
    )
    assert on_file and lookup == on_file


@pytest.mark.django_db
def test_the_months_of_loaded_claims_are_counted_as_holding_received_claims(shared_x12: Path) -> None:
    """Ingest writes claims with COPY, not through the status writer: it counts them itself, per chunk, so the
    work queue and adjudication, which read only the months holding their claims, see the new ones."""
    assert months_holding([ClaimStatus.RECEIVED]) == []
    for name in ("837P/imsweb/x12_many_claims.txt", "837P/lfh/demo.837"):
        assert not batch_ingest(path=shared_x12 / name, chunk_claims=2).rejected
    loaded = Counter(d.replace(day=1) for d in Claim.objects.values_list("service_date_from", flat=True))
    assert months_holding([ClaimStatus.RECEIVED]) == sorted(loaded)
    counted = dict(
        ClaimMonthCount.objects.filter(state=ClaimStatus.RECEIVED)
        .values("month")
        .annotate(n=Sum("claims"))
        .values_list("month", "n")
    )
    assert counted == dict(loaded)


def test_the_file_scan_finds_every_month_of_service_and_ignores_impossible_ones(tmp_path: Path) -> None:
    path = tmp_path / "months.837"
    # The element separator is whatever the ISA says; dates outside 1900..today+2y (and month 13) make no partition.
    path.write_bytes(
        b"DTP|472|D8|20240115~DTP*472*RD8*20230301-20230302~DTP*472*D8*99991231~DTP*472*D8*20241301~"
        + b"x" * (ingest._SCAN_BYTES - 10)
        + b"DTP*472*D8*20220701~"  # cut by the scan's chunk boundary
    )
    scan = file_scan(path)
    assert sorted(m.isoformat() for m in scan.months) == ["2022-07-01", "2023-03-01", "2024-01-01"]
    assert scan.size == path.stat().st_size


def test_a_refusal_from_a_psycopg_cursor_is_reported_as_the_databases_not_as_a_defect() -> None:
    """Some writers use psycopg's own cursors (server-side binding), whose errors are not Django's."""
    raised = psycopg.errors.UndefinedTable("relation claims_x does not exist")
    error = ingest._as_x12_error(raised, name="f.837", position=12)
    assert error.finding.position == 12
    assert error.finding.message.startswith("the database refused the file")
    assert "[SQLSTATE 42P01]" in error.finding.message
    assert "claims_x" not in str(error)  # PostgreSQL's text can quote values
