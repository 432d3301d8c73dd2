"""pyx12 validation of 837P files (claims.x12.validation) on the shared real-world samples.

Expected outcomes come from running pyx12 4.0 on these files (see ../shared/data/x12/SOURCES.md).
No database: validation is pure file work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claims.models import ValidationOutcome
from claims.x12.validation import ValidationReport, outcome_from_999, validate_837


def _codes(report: ValidationReport) -> list[str]:
    return [e["code"] for e in report.errors]


def _assert_999(ack: str, ak9: str) -> None:
    assert ack.startswith("ISA*")
    assert "ST*999*" in ack
    assert f"AK9*{ak9}*" in ack


def test_outcomes_are_the_model_choices() -> None:
    assert {"accepted", "accepted_with_errors", "rejected"} <= set(ValidationOutcome.values)


def test_uhin_sample_is_accepted_with_a_clean_999(shared_x12: Path) -> None:
    report = validate_837(shared_x12 / "837P/uhin/837.edi")

    assert report.outcome == ValidationOutcome.ACCEPTED
    assert report.errors == []
    assert report.crashed is False
    _assert_999(report.ack_999, "A")
    assert "AK1*HC*800000372*005010X222A1~" in report.ack_999
    assert "IK5*A~" in report.ack_999


def test_imsweb_segment_errors_are_rejected_with_positions(shared_x12: Path) -> None:
    report = validate_837(shared_x12 / "837P/imsweb/x12_segment_errors.txt")

    assert report.outcome == ValidationOutcome.REJECTED
    assert report.crashed is False
    where = [(e["position"], e["segment"], e["code"]) for e in report.errors]
    assert where == [
        (10, "N3", "IK304:3"),  # mandatory Billing Provider Address missing
        (12, "REF", "IK304:5"),  # REF exceeds max use
        (22, "HI", "IK304:3"),  # mandatory HI missing
        (25, "SE", "IK502:4"),  # SE01 says 25, there are 23
    ]
    assert "SE count of 25" in report.errors[-1]["message"]
    _assert_999(report.ack_999, "R")
    assert "IK3*N3*8**3~" in report.ack_999


def test_imsweb_missing_elements_name_the_element(shared_x12: Path) -> None:
    report = validate_837(shared_x12 / "837P/imsweb/x12_missing_elements.txt")

    assert report.outcome == ValidationOutcome.REJECTED
    assert len(report.errors) == 22
    first = report.errors[0]
    assert first == {
        "position": 7,
        "segment": "NM1",
        "element": "NM102",
        "code": "IK403:1",
        "message": 'Mandatory data element "Entity Type Qualifier" (NM102) is missing',
    }
    assert all(e["position"] for e in report.errors)
    assert "HI01-2" in {e["element"] for e in report.errors}


def test_bom_indented_crlf_file_is_validated_not_crashed(shared_x12: Path) -> None:
    # OopFactory sample: UTF-8 BOM, CRLF, indentation, and the base-guide label 005010X222.
    path = shared_x12 / "837P/oopfactory/Example1_HealthInsurance.txt"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    report = validate_837(path)

    assert report.crashed is False
    # Clean against X222A1, but validated under a substituted label: not plain "accepted".
    assert report.outcome == ValidationOutcome.ACCEPTED_WITH_ERRORS
    assert report.errors == [
        {
            "position": 2,
            "segment": "GS",
            "element": "GS08",
            "code": "version_substituted",
            "message": "declared 005010X222; pyx12 has no map for it, validated against 005010X222A1",
        }
    ]
    _assert_999(report.ack_999, "A")


def test_x222a2_label_is_validated_as_a1(shared_x12: Path) -> None:
    report = validate_837(shared_x12 / "837P/lfh/demo.837")

    assert report.outcome == ValidationOutcome.ACCEPTED_WITH_ERRORS
    assert _codes(report) == ["version_substituted"]
    assert "declared 005010X222A2" in report.errors[0]["message"]
    _assert_999(report.ack_999, "A")


def test_835_is_rejected_as_not_an_837p(shared_x12: Path) -> None:
    # pyx12 alone calls this file valid: it validates whatever transaction it has a map for.
    report = validate_837(shared_x12 / "835/pyx12/835_mult_loops.txt")

    assert report.outcome == ValidationOutcome.REJECTED
    assert report.crashed is False
    assert _codes(report) == ["not_837p"]
    assert report.errors[0]["position"] == 2
    assert report.errors[0]["element"] == "GS01"
    assert report.ack_999 == ""


def test_truncated_file_is_rejected_with_missing_trailers(shared_x12: Path, tmp_path: Path) -> None:
    raw = (shared_x12 / "837P/uhin/837.edi").read_bytes()
    path = tmp_path / "truncated.edi"
    path.write_bytes(raw[: len(raw) // 2])

    report = validate_837(path)

    assert report.outcome == ValidationOutcome.REJECTED
    assert report.crashed is False
    codes = _codes(report)
    assert {"TA105:023", "AK905:3", "IK502:2", "unterminated_segment"} <= set(codes)
    # The cut falls inside segment 10, the billing provider's NM1*85.
    unterminated = report.errors[codes.index("unterminated_segment")]
    assert (unterminated["position"], unterminated["segment"]) == (10, "NM1")
    _assert_999(report.ack_999, "R")


def test_pyx12_crash_becomes_a_rejection(shared_x12: Path, tmp_path: Path) -> None:
    # A second IEA makes pyx12 4.0 raise a bare IndexError (STACK.md).
    raw = (shared_x12 / "837P/uhin/837.edi").read_bytes()
    path = tmp_path / "double_iea.edi"
    path.write_bytes(raw + b"\nIEA*1*800000372~")

    report = validate_837(path)

    assert report.outcome == ValidationOutcome.REJECTED
    assert report.crashed is True
    assert report.ack_999 == ""
    assert report.errors[-1]["code"] == "crash"
    assert report.errors[-1]["message"].startswith("pyx12 raised IndexError")


def test_cr_only_terminators_and_indentation_validate_like_the_original(
    shared_x12: Path, tmp_path: Path
) -> None:
    raw = (shared_x12 / "837P/uhin/837.edi").read_bytes()
    path = tmp_path / "reshaped.edi"
    path.write_bytes(b"\xef\xbb\xbf" + raw.replace(b"~\n", b"~\r    "))

    report = validate_837(path)

    assert report.outcome == ValidationOutcome.ACCEPTED
    assert report.errors == []


@pytest.mark.parametrize(
    ("content", "code", "position"),
    [
        (b"", "not_x12", 1),
        (b"hello, this is not X12 at all" * 5, "not_x12", 1),
        (b"ISA*00*" + b"x" * 40, "not_x12", 1),
    ],
)
def test_non_x12_content_is_rejected(tmp_path: Path, content: bytes, code: str, position: int) -> None:
    path = tmp_path / "bad.edi"
    path.write_bytes(content)

    report = validate_837(path)

    assert report.outcome == ValidationOutcome.REJECTED
    assert [(e["code"], e["position"]) for e in report.errors] == [(code, position)]


def test_non_ascii_byte_is_rejected_at_its_segment(shared_x12: Path, tmp_path: Path) -> None:
    raw = (shared_x12 / "837P/uhin/837.edi").read_bytes()
    path = tmp_path / "latin1.edi"
    path.write_bytes(raw.replace(b"N3*", b"N3*\xe9", 1))

    report = validate_837(path)

    assert report.outcome == ValidationOutcome.REJECTED
    assert report.crashed is False
    [error] = report.errors
    assert (error["code"], error["segment"]) == ("non_ascii", "N3")
    assert raw.split(b"~")[error["position"] - 1].strip().startswith(b"N3*")


@pytest.mark.parametrize(
    ("ack", "outcome"),
    [
        ("ST*999*0001~AK2*837*1~IK5*A~AK9*A*1*1*1~SE*4*0001~", "accepted"),
        ("ST*999*0001~AK2*837*1~IK5*E~AK9*E*1*1*1~SE*4*0001~", "accepted_with_errors"),
        ("ST*999*0001~AK2*837*1~IK5*R*5~AK9*R*1*1*0~SE*4*0001~", "rejected"),
        ("ST*999*0001~IK5*A~AK9*P*2*2*1~SE*4*0001~", "accepted_with_errors"),
        ("ST*999*0001~AK9*A*1*1*1~SE*3*0001~TA1*000000905*030101*1253*R*001~", "rejected"),
        ("", "rejected"),
    ],
)
def test_outcome_is_read_from_the_999_codes(ack: str, outcome: str) -> None:
    assert outcome_from_999(ack) == outcome
