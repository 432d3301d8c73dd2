"""Ingest decisions: idempotency, duplicates, replacements and voids, members, delimiters, atomicity."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from claims.models import Claim, ClaimAdjustment, ClaimRelation, ClaimStatus, ClaimStatusHistory, IngestBatch
from claims.services.adjudication import claims_adjudicate
from claims.services.ingest import IngestResult, batch_ingest
from claims.services.validation import batch_validate
from members.models import Member
from providers.models import Provider

pytestmark = pytest.mark.django_db

UHIN = "837P/uhin/837.edi"


def _variant(tmp_path: Path, shared_x12: Path, name: str, old: bytes, new: bytes, out: str) -> Path:
    raw = (shared_x12 / name).read_bytes()
    assert old in raw
    path = tmp_path / out
    path.write_bytes(raw.replace(old, new))
    return path


def test_reingesting_same_file_creates_nothing(shared_x12: Path) -> None:
    first = batch_ingest(path=shared_x12 / UHIN)
    second = batch_ingest(path=shared_x12 / UHIN)

    assert first.created and not second.created
    assert second.batch.pk == first.batch.pk
    assert Claim.objects.count() == 1
    assert IngestBatch.objects.count() == 1


def _load_and_decide(path: Path) -> IngestResult:
    """Ingest, validate with pyx12 and adjudicate one file, as the pipeline does after each batch."""
    result = batch_ingest(path=path)
    batch_validate(batch_id=result.batch.pk, path=path)
    claims_adjudicate(batch_id=result.batch.pk)
    return result


def test_exact_duplicate_is_linked_at_ingest_and_denied_carc_18_by_the_engine(shared_x12: Path) -> None:
    # OopFactory's Example2_Encounter repeats LinuxForHealth's demo.example2 claim (same provider, patient,
    # claim number, dates, codes and charges) under another envelope.
    original = batch_ingest(path=shared_x12 / "837P/lfh/demo.example2.837")
    dup = batch_ingest(path=shared_x12 / "837P/oopfactory/Example2_Encounter.txt")

    first = Claim.objects.get(batch=original.batch)
    second = Claim.objects.get(batch=dup.batch)
    assert dup.duplicates == 1
    # Ingest only links: both load as received.
    assert (first.status, second.status, second.denial_reason_code) == ("received", "received", "")
    assert (second.related_claim_id, second.relation) == (first.id, ClaimRelation.DUPLICATE_OF)
    assert second.related_service_date_from == first.service_date_from

    path = shared_x12 / "837P/oopfactory/Example2_Encounter.txt"
    batch_validate(batch_id=dup.batch.pk, path=path)
    claims_adjudicate(batch_id=dup.batch.pk)

    second.refresh_from_db()
    assert (second.status, second.denial_reason_code, second.edits) == ("denied", "18", ["exact_duplicate"])
    cas = list(ClaimAdjustment.objects.filter(claim_id=second.id).values_list("group_code", "carc", "amount"))
    assert cas and {(g, c) for g, c, _ in cas} == {("CO", "18")}
    assert sum(a for _, _, a in cas) == second.total_charge and second.total_paid == 0
    flow = list(
        ClaimStatusHistory.objects.filter(claim_id=second.id)
        .order_by("id")
        .values_list("from_status", "to_status", "source", "note")
    )
    assert flow[-1] == ("validated", "denied", "adjudication", "CARC 18")


def test_duplicates_within_one_file_point_at_the_first(shared_x12: Path) -> None:
    # x12_multiple_st sends the same two claims in two transaction sets.
    result = batch_ingest(path=shared_x12 / "837P/imsweb/x12_multiple_st.txt")

    claims = list(
        Claim.objects.order_by("id").values_list(
            "id", "claim_number", "status", "related_claim_id", "relation"
        )
    )
    (a, b, c, d) = claims
    assert result.duplicates == 2
    assert a[1:] == ("A37YH556", "received", None, "") and b[1:] == ("A37YH667", "received", None, "")
    assert c[1:] == ("A37YH556", "received", a[0], "duplicate_of")
    assert d[1:] == ("A37YH667", "received", b[0], "duplicate_of")


def test_same_claim_number_for_other_dates_and_patients_is_not_a_duplicate(shared_x12: Path) -> None:
    # MissingEntityCode: five claims numbered 9999 by one billing provider, two people, different dates.
    result = batch_ingest(path=shared_x12 / "837P/oopfactory/MissingEntityCode.txt")

    assert result.duplicates == 0
    rows = Claim.objects.order_by("id").values_list(
        "member__member_number", "service_date_from", "status", "relation"
    )
    assert [(m, str(d), s, r) for m, d, s, r in rows] == [
        ("999999999", "2011-12-12", "received", ""),
        ("999999999", "2011-12-13", "received", ""),
        ("999999999", "2011-12-14", "received", ""),
        ("999999999-2", "2011-12-12", "received", ""),
        ("999999999-2", "2011-12-14", "received", ""),
    ]


def test_replacement_ends_its_original_and_a_void_voids_both_when_the_engine_decides(
    tmp_path: Path, shared_x12: Path
) -> None:
    _load_and_decide(shared_x12 / UHIN)
    replacement = _variant(
        tmp_path, shared_x12, UHIN, b"CLM*1606*2***11:B:1", b"CLM*1606*2***11:B:7", "r.edi"
    )
    void = _variant(tmp_path, shared_x12, UHIN, b"CLM*1606*2***11:B:1", b"CLM*1606*2***11:B:8", "v.edi")

    result = batch_ingest(path=replacement)
    original, new = Claim.objects.order_by("id")
    # Linked at ingest, nothing ended yet.
    assert (original.status, new.status) == ("pended", "received")
    assert (new.frequency_code, new.related_claim_id, new.relation) == (
        "7",
        original.id,
        ClaimRelation.REPLACES,
    )

    batch_validate(batch_id=result.batch.pk, path=replacement)
    claims_adjudicate(batch_id=result.batch.pk)
    original.refresh_from_db()
    new.refresh_from_db()
    assert original.status == ClaimStatus.REPLACED
    assert new.status == "pended" and new.edits == ["eligibility_not_on_file"]  # decided in its place
    assert ClaimStatusHistory.objects.filter(
        claim_id=original.id, to_status="replaced", source="adjudication", note=f"replaced by claim {new.id}"
    ).exists()

    _load_and_decide(void)
    original, new, voider = Claim.objects.order_by("id")
    assert (new.status, original.status) == (ClaimStatus.VOIDED, ClaimStatus.REPLACED)
    assert (voider.status, voider.related_claim_id, voider.relation, voider.edits) == (
        ClaimStatus.VOIDED,
        new.id,
        ClaimRelation.VOIDS,
        ["void"],
    )
    assert ClaimStatusHistory.objects.filter(
        claim_id=new.id, from_status="pended", to_status=ClaimStatus.VOIDED, source="adjudication"
    ).exists()


def test_replacement_without_original_loads_with_warning(tmp_path: Path, shared_x12: Path) -> None:
    path = _variant(tmp_path, shared_x12, UHIN, b"CLM*1606*2***11:B:1", b"CLM*1606*2***11:B:7", "r.edi")

    result = batch_ingest(path=path)

    claim = Claim.objects.get()
    assert (claim.status, claim.related_claim_id) == (ClaimStatus.RECEIVED, None)
    assert [w["element"] for w in result.batch.warnings] == ["CLM05-3"]
    assert "no original on file" in result.batch.warnings[0]["message"]

    # The engine pends it for an examiner: there is nothing to replace.
    batch_validate(batch_id=result.batch.pk, path=path)
    claims_adjudicate(batch_id=result.batch.pk)
    claim.refresh_from_db()
    assert (claim.status, claim.pend_reason, claim.edits) == ("pended", "original", ["original_not_open"])


def test_people_sharing_a_member_id_stay_apart(shared_x12: Path) -> None:
    batch_ingest(path=shared_x12 / "837P/imsweb/x12_valid.txt")

    members = Member.objects.filter(subscriber_identifier="123456").order_by("member_number")
    assert [(m.member_number, m.first_name) for m in members] == [("123456", "JOHN"), ("123456-2", "DAVID")]


def test_patient_loop_creates_dependent_linked_to_subscriber(shared_x12: Path) -> None:
    batch_ingest(path=shared_x12 / "837P/oopfactory/Example1_HealthInsurance.txt")

    claim = Claim.objects.select_related("member__subscriber").get()
    patient = claim.member
    assert (patient.first_name, patient.last_name, patient.relationship_code) == ("TED", "SMITH", "19")
    assert patient.subscriber is not None and patient.subscriber.first_name == "JANE"
    assert patient.subscriber.member_number == "JS00111223333"
    assert str(patient.date_of_birth) == "1973-05-01" and patient.gender == "M"
    assert patient.pii.address_line1 == "236 N MAIN ST"


def test_claim_fields_map_from_loops(shared_x12: Path) -> None:
    batch_ingest(path=shared_x12 / "837P/oopfactory/Example1_HealthInsurance.txt")

    claim = Claim.objects.select_related("billing_provider__primary_specialty", "health_plan").get()
    assert claim.claim_number == "26463774"
    assert (claim.place_of_service, claim.frequency_code) == ("11", "1")
    assert claim.diagnosis_codes == ["0340", "V7389"] and claim.diagnosis_code_system == "icd9cm"
    assert (str(claim.service_date_from), str(claim.service_date_to)) == ("2006-10-03", "2006-10-25")
    assert claim.total_charge == Decimal("100")
    assert claim.billing_provider.npi == "9876543210"
    assert claim.billing_provider.primary_specialty.taxonomy_code == "203BF0100Y"
    assert (claim.health_plan.payer_id, claim.health_plan.plan_type) == ("999996666", "CI")
    lines = list(
        claim.lines.order_by("line_number").values_list("procedure_code", "charge", "diagnosis_pointers")
    )
    assert lines == [
        ("99213", Decimal("40.00"), [1]),
        ("87070", Decimal("15.00"), [1]),
        ("99214", Decimal("35.00"), [2]),
        ("86663", Decimal("10.00"), [2]),
    ]
    rvus = list(claim.lines.order_by("line_number").values_list("rvus", flat=True))
    assert rvus == [Decimal("2.65"), Decimal("0"), Decimal("3.75"), Decimal("0")]  # claims.fee_schedule
    last = claim.lines.get(line_number=4)
    assert (str(last.service_date), str(last.service_date_to)) == ("2006-10-10", "2006-10-25")


def test_declared_component_separator_is_corrected(shared_x12: Path) -> None:
    # ISA16 says ':' but the file writes SV1*HC>98940: the procedure is 98940, not a qualifier "HC>98940".
    result = batch_ingest(path=shared_x12 / "837P/lfh/demo.example6.837")

    line = Claim.objects.get().lines.get()
    assert (line.procedure_qualifier, line.procedure_code) == ("HC", "98940")
    assert Claim.objects.get().diagnosis_codes == ["7215"]
    assert any("ISA16 declares ':'" in w["message"] for w in result.batch.warnings)


def test_code_checks_are_recorded_not_fatal(shared_x12: Path) -> None:
    batch_ingest(path=shared_x12 / "837P/imsweb/x12_ambiguous_loop.txt")

    claim = Claim.objects.select_related("billing_provider", "rendering_provider").get()
    assert claim.code_check_errors == [
        "line 1: diagnosis pointer 2 points past the 1 codes",
        "line 1: diagnosis pointer 3 points past the 1 codes",
        "billing provider NPI 1234567890 fails the NPI check digit",
    ]
    assert claim.billing_provider.npi_valid is False
    # NM1*82 after the service line is 2420A (line level), not the claim's 2310B rendering provider.
    assert claim.rendering_provider is None


def test_icd10_codes_checked_against_the_code_set(tmp_path: Path, shared_x12: Path) -> None:
    path = _variant(tmp_path, shared_x12, UHIN, b"HI*ABK:R69~", b"HI*ABK:E11*ABF:E119*ABF:Q999X~", "icd.edi")

    batch_ingest(path=path)

    claim = Claim.objects.get()
    assert claim.diagnosis_codes == ["E11", "E119", "Q999X"]
    assert claim.code_check_errors == [
        "E11 is an ICD-10-CM category, not a billable code",
        "Q999X is not an ICD-10-CM code",
    ]


@pytest.mark.parametrize(
    ("old", "new", "label"),
    [
        (b"~\n", b"\r", "CR-only terminators"),
        (b"~\n", b"~\r\n    ", "CRLF and indentation"),
        (b"\n", b"", "no line ends"),
    ],
)
def test_terminator_variants_load_the_same_claim(
    tmp_path: Path, shared_x12: Path, old: bytes, new: bytes, label: str
) -> None:
    raw = (shared_x12 / UHIN).read_bytes().replace(old, new)
    path = tmp_path / "variant.edi"
    path.write_bytes(b"\xef\xbb\xbf" + raw)

    result = batch_ingest(path=path)

    assert not result.rejected, label
    claim = Claim.objects.get()
    assert (claim.claim_number, claim.total_charge, claim.diagnosis_codes) == ("1606", Decimal("2"), ["R69"])


def test_unusual_delimiters_are_read_from_the_isa(tmp_path: Path, shared_x12: Path) -> None:
    raw = (shared_x12 / UHIN).read_text()
    # element '|', component '\\', repetition '{', segment '!'
    converted = raw.replace("*", "|").replace(":", "\\").replace("~", "!").replace("|^|", "|{|")
    path = tmp_path / "delims.edi"
    path.write_text(converted)

    batch_ingest(path=path)

    claim = Claim.objects.get()
    assert claim.lines.get().procedure_code == "90834"
    assert claim.place_of_service == "11"


def test_envelope_count_errors_are_warnings_with_positions(shared_x12: Path) -> None:
    result = batch_ingest(path=shared_x12 / "837P/imsweb/x12_valid.txt")

    se = [w for w in result.batch.warnings if w["element"] == "SE01"]
    assert se == [
        {
            "position": 36,
            "segment": "SE",
            "element": "SE01",
            "message": "says '25' segments, the transaction set has 34",
        }
    ]
    hl = [w for w in result.batch.warnings if w["element"] == "HL02"]
    assert [w["position"] for w in hl] == [27]


@pytest.mark.parametrize(
    ("mutate", "position", "element", "message"),
    [
        (lambda b: b[: len(b) // 2], 10, "", "file ends inside a transaction set"),
        (lambda b: b"\xff\xfe" + b, 0, "", "file is not ASCII/UTF-8 text"),
        (lambda b: b"GS*HC*X~" + b, 1, "", "file does not start with an ISA segment"),
        (lambda b: b.replace(b"CLM*1606*2*", b"CLM*1606*2x*"), 21, "CLM02", "not a number"),
        (
            lambda b: b.replace(b"DTP*472*RD8*20240815-20240820", b"DTP*472*RD8*20241315-20240820"),
            25,
            "DTP03",
            "",
        ),
        (lambda b: b.replace(b"LX*1~\n", b""), 23, "", "SV1 outside a service line"),
        (
            lambda b: b.replace(b"DTP*472*RD8*20240815-20240820~\n", b""),
            23,
            "DTP*472",
            "service line has no date",
        ),
        (
            lambda b: b.replace(b"NM1*PR*2*FLORIDA DIRECT UHIN PAYER*****PI*FLHIN~\n", b""),
            20,
            "",
            "claim has no payer",
        ),
    ],
)
def test_bad_input_is_rejected_with_its_place(
    tmp_path: Path, shared_x12: Path, mutate, position: int, element: str, message: str
) -> None:
    path = tmp_path / "bad.edi"
    path.write_bytes(mutate((shared_x12 / UHIN).read_bytes()))

    result = batch_ingest(path=path)

    assert result.rejected
    (error,) = result.batch.errors
    assert (error["position"], error["element"]) == (position, element)
    assert message in error["message"]
    assert Claim.objects.count() == Member.objects.count() == Provider.objects.count() == 0


def test_rejected_file_is_retried_when_ingested_again(tmp_path: Path, shared_x12: Path) -> None:
    path = tmp_path / "f.edi"
    path.write_bytes(b"not x12")
    first = batch_ingest(path=path)
    second = batch_ingest(path=path)

    assert first.rejected and second.rejected and second.created
    assert IngestBatch.objects.count() == 1


def test_validation_settles_claim_status_from_999_and_code_checks(shared_x12: Path) -> None:
    clean = batch_ingest(path=shared_x12 / UHIN)
    flagged = batch_ingest(path=shared_x12 / "837P/imsweb/x12_valid.txt")

    ok = batch_validate(batch_id=clean.batch.id, path=shared_x12 / UHIN)
    bad = batch_validate(batch_id=flagged.batch.id, path=shared_x12 / "837P/imsweb/x12_valid.txt")
    again = batch_validate(batch_id=clean.batch.id, path=shared_x12 / UHIN)

    assert ok.validation_status == "accepted" and "ST*999" in ok.ack_999
    assert Claim.objects.get(batch=clean.batch).status == ClaimStatus.VALIDATED
    assert bad.validation_status in ("accepted_with_errors", "rejected") and bad.validation_errors
    assert set(Claim.objects.filter(batch=flagged.batch).values_list("status", flat=True)) == {
        ClaimStatus.PENDED
    }
    # Idempotent: a second validation moves nothing and writes no second history row.
    assert again.validation_status == "accepted"
    assert ClaimStatusHistory.objects.filter(source="validation").count() == 3


def test_command_exits_nonzero_naming_rejected_files(shared_x12: Path, capsys) -> None:
    with pytest.raises(CommandError) as exc:
        call_command(
            "ingest_837",
            str(shared_x12 / UHIN),
            str(shared_x12 / "837P/imsweb/x12_missing_elements.txt"),
            "--no-validate",
            "--no-progress",
        )

    assert "x12_missing_elements.txt: segment 31 (CLM), element CLM05-1" in str(exc.value)
    out = capsys.readouterr().out
    assert "files 2, claims 1, lines 1, warnings 0, rejected 1" in out
