"""Element values the 837P parser refuses or keeps, and the column limits it checks them against.

Every case starts from the UHIN sample (one claim, one line; ../shared/data/x12/SOURCES.md) with one element
changed. Segment positions in that file: NM1*85 10, N4 (billing) 12, REF*EI 13, SBR 15, NM1*IL 16, N3 17,
N4 18, DMG 19, NM1*PR 20, CLM 21, HI 22, LX 23, SV1 24, DTP*472 25.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models

from claims.x12 import parser837
from claims.x12.errors import X12Error
from claims.x12.parser837 import (
    COLUMNS,
    NUMERIC_COLUMNS,
    SMALLINT_MAX,
    Column,
    ParsedFile,
    parse_837,
)

UHIN = "837P/uhin/837.edi"
# The parser's "today" in these tests: service dates up to 2027-06-15, births up to 2025-06-15.
TODAY = dt.date(2025, 6, 15)
SV1 = b"SV1*HC:90834*2*UN*1***1~"
CLM = b"CLM*1606*2***11:B:1*Y*A*Y*Y*P~"
DTP = b"DTP*472*RD8*20240815-20240820~"
DMG = b"DMG*D8*19461111*F~"


@pytest.fixture(scope="module")
def uhin(shared_x12: Path) -> bytes:
    return (shared_x12 / UHIN).read_bytes()


def _parse(raw: bytes, old: bytes = b"", new: bytes = b"") -> ParsedFile:
    if old:
        assert raw.count(old) == 1, old
        raw = raw.replace(old, new)
    return parse_837(raw, "t.edi", today=TODAY)


def _refused(raw: bytes, old: bytes, new: bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        _parse(raw, old, new)
    return info.value


def _warnings(parsed: ParsedFile, element: str) -> list[str]:
    return [w.message for w in parsed.warnings if w.element == element]


# -- 1. diagnosis pointers (SV1-07) ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pointers", "kept", "warned"),
    [
        # "²" passes str.isdigit() and then int() raised ValueError; "１" (full width) was read as 1.
        (b"\xc2\xb2", [], ["SV1-07-1"]),
        ("１".encode(), [], ["SV1-07-1"]),
        (b"1:0:13", [1], ["SV1-07-2", "SV1-07-3"]),
        (b"+1: 2", [2], ["SV1-07-1"]),
        (b"1:2:3:4:1", [1, 2, 3, 4], ["SV1-07-5"]),
        (b"01:12", [1, 12], []),
    ],
)
def test_diagnosis_pointers_are_ascii_1_to_12_and_others_are_ignored_with_a_warning(
    uhin: bytes, pointers: bytes, kept: list[int], warned: list[str]
) -> None:
    parsed = _parse(uhin, SV1, b"SV1*HC:90834*2*UN*1***" + pointers + b"~")

    assert parsed.claims[0].lines[0].diagnosis_pointers == kept
    found = [w for w in parsed.warnings if w.element.startswith("SV1-07")]
    assert [w.element for w in found] == warned
    assert all(w.position == 24 and "ignored" in w.message for w in found)


# -- 2, 3. amounts and quantities (CLM02, SV1-02, SV1-04) ------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "template", "element"),
    [
        (CLM, b"CLM*1606*{}***11:B:1*Y*A*Y*Y*P~", "CLM02"),
        (SV1, b"SV1*HC:90834*{}*UN*1***1~", "SV1-02"),
        (SV1, b"SV1*HC:90834*2*UN*{}***1~", "SV1-04"),
    ],
)
@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        # An exponent: Decimal read it, and summing the line charges raised decimal.Overflow.
        (b"1e1000000", "not a number in X12 form"),
        (b"2E0", "not a number in X12 form"),
        (b"Infinity", "not a number in X12 form"),
        (b"+2", "not a number in X12 form"),
        (b" 2", "not a number in X12 form"),
        (b"1_0", "not a number in X12 form"),
        (b"2,00", "not a number in X12 form"),
        ("\u0662".encode(), "not a number in X12 form"),  # Arabic-Indic two: Decimal reads it as 2
        (b"-", "not a number in X12 form"),
        (b".", "not a number in X12 form"),
        (b"-2", "is negative"),
        (b"-0.01", "is negative"),
        (b"99.99999999999999999", "decimal places; the claims platform keeps"),
        (b"12345678901", "digits before the decimal point"),
    ],
)
def test_amounts_must_be_plain_non_negative_decimals_that_fit_their_column(
    uhin: bytes, old: bytes, template: bytes, element: str, value: bytes, phrase: str
) -> None:
    error = _refused(uhin, old, template.replace(b"{}", value))

    assert (error.finding.element, error.finding.segment) == (element, element[:3])
    assert phrase in error.finding.message
    # Never the value itself: amounts sit beside PHI in logs and batch errors.
    assert len(value) < 3 or value.decode() not in error.finding.message


@pytest.mark.parametrize(
    ("element", "value", "phrase"),
    [
        (
            "CLM02",
            "10000000000",
            "has 11 digits before the decimal point; the claims platform stores at most 10",
        ),
        ("SV1-02", "1.001", "has 3 decimal places; the claims platform keeps 2 and does not round"),
        ("SV1-04", "1.0001", "has 4 decimal places; the claims platform keeps 3"),
        ("SV1-04", "1000000", "has 7 digits before the decimal point; the claims platform stores at most 6"),
    ],
)
def test_amount_limits_follow_the_numeric_columns(uhin: bytes, element: str, value: str, phrase: str) -> None:
    old, template = {
        "CLM02": (CLM, "CLM*1606*{}***11:B:1*Y*A*Y*Y*P~"),
        "SV1-02": (SV1, "SV1*HC:90834*{}*UN*1***1~"),
        "SV1-04": (SV1, "SV1*HC:90834*2*UN*{}***1~"),
    }[element]
    error = _refused(uhin, old, template.format(value).encode())

    assert error.finding.element == element
    assert phrase in error.finding.message


def test_largest_amounts_that_fit_are_kept_exactly(uhin: bytes) -> None:
    raw = uhin.replace(CLM, b"CLM*1606*9999999999.99***11:B:1*Y*A*Y*Y*P~")
    claim = _parse(raw, SV1, b"SV1*HC:90834*9999999999.99*UN*999999.999***1~").claims[0]

    assert claim.total_charge == Decimal("9999999999.99")
    assert (claim.lines[0].charge, claim.lines[0].units) == (Decimal("9999999999.99"), Decimal("999999.999"))


@pytest.mark.parametrize(
    ("value", "expected"), [(b"2.000", Decimal("2")), (b"002", Decimal("2")), (b".5", Decimal("0.5"))]
)
def test_trailing_and_leading_zeros_are_not_digits_to_store(
    uhin: bytes, value: bytes, expected: Decimal
) -> None:
    line = _parse(uhin, SV1, b"SV1*HC:90834*" + value + b"*UN*1***1~").claims[0].lines[0]

    assert line.charge == expected


def test_minus_zero_is_zero(uhin: bytes) -> None:
    line = _parse(uhin, SV1, b"SV1*HC:90834*-0*UN*1***1~").claims[0].lines[0]

    assert line.charge == 0 and not line.charge.is_signed()


# -- 4. quantity ----------------------------------------------------------------------------------------------
def test_zero_units_are_kept_as_zero_with_a_warning(uhin: bytes) -> None:
    parsed = _parse(uhin, SV1, b"SV1*HC:90834*2*UN*0***1~")

    assert parsed.claims[0].lines[0].units == Decimal("0")
    assert _warnings(parsed, "SV1-04") == ["service unit count is 0; kept as 0"]


def test_missing_units_are_read_as_one_with_a_warning(uhin: bytes) -> None:
    parsed = _parse(uhin, SV1, b"SV1*HC:90834*2*UN****1~")

    assert parsed.claims[0].lines[0].units == Decimal("1")
    assert _warnings(parsed, "SV1-04") == ["service unit count is missing (required); read as 1"]


def test_sent_units_are_kept_without_a_warning(uhin: bytes) -> None:
    parsed = _parse(uhin, SV1, b"SV1*HC:90834*2*UN*2.5***1~")

    assert parsed.claims[0].lines[0].units == Decimal("2.5")
    assert _warnings(parsed, "SV1-04") == []


# -- 5. one SV1 per service line ------------------------------------------------------------------------------
def test_second_sv1_in_one_service_line_is_refused(uhin: bytes) -> None:
    error = _refused(uhin, SV1, SV1 + b"\nSV1*HC:99213*5*UN*1***1~")

    assert (error.finding.position, error.finding.segment) == (25, "SV1")
    assert error.finding.message == "second SV1 in the service line at segment 23"


# -- 6. dates -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dates", "ok"),
    [
        (b"D8*99991231", False),
        (b"D8*18991231", False),
        (b"D8*19000101", True),
        (b"D8*20270615", True),  # today + 2 years
        (b"D8*20270616", False),
        (b"RD8*20270101-20270616", False),
        (b"RD8*18991231-20240101", False),
        (b"D8*2024815", False),  # 7 digits: strptime read it as 2024-08-15
        (b"D8*2024-8-15", False),
    ],
)
def test_service_dates_run_from_1900_to_two_years_after_today(uhin: bytes, dates: bytes, ok: bool) -> None:
    new = b"DTP*472*" + dates + b"~"
    if ok:
        assert _parse(uhin, DTP, new).claims[0].lines[0].service_date is not None
        return
    error = _refused(uhin, DTP, new)
    assert (error.finding.position, error.finding.element) == (25, "DTP03")
    assert dates.split(b"*")[1].decode() not in error.finding.message


def test_service_date_window_follows_the_injected_today(uhin: bytes) -> None:
    raw = uhin.replace(DTP, b"DTP*472*D8*20300101~")

    with pytest.raises(X12Error, match="service date is outside 1900-01-01 to 2027-06-15"):
        parse_837(raw, "t.edi", today=TODAY)
    assert parse_837(raw, "t.edi", today=dt.date(2029, 1, 1)).claims[0].service_date_from == dt.date(
        2030, 1, 1
    )


def test_year_9999_is_refused_without_an_injected_today(uhin: bytes) -> None:
    with pytest.raises(X12Error) as info:
        parse_837(uhin.replace(DTP, b"DTP*472*D8*99991231~"), "t.edi")

    assert info.value.finding.element == "DTP03"


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (b"99991231", False),
        (b"20250616", False),  # tomorrow
        (b"20250615", True),
        (b"19000101", True),
        (b"18991231", False),
        ("２０２０0101".encode(), False),
    ],
)
def test_birth_dates_run_from_1900_to_today(uhin: bytes, born: bytes, ok: bool) -> None:
    new = b"DMG*D8*" + born + b"*F~"
    if ok:
        assert _parse(uhin, DMG, new).claims[0].subscriber.date_of_birth is not None
        return
    error = _refused(uhin, DMG, new)
    assert (error.finding.position, error.finding.element) == (19, "DMG02")
    assert born.decode() not in error.finding.message


# -- 7. lengths beyond the database columns -------------------------------------------------------------------
NPI = b"NM1*85*2*NY UHIN PROVIDER*****XX*1245319599~"
SUBSCRIBER = b"NM1*IL*1*MARQUARDT*RALPH****MI*601239742~"
PAYER = b"NM1*PR*2*FLORIDA DIRECT UHIN PAYER*****PI*FLHIN~"
X = "X"


@pytest.mark.parametrize(
    ("old", "new", "position", "element", "message"),
    [
        (
            CLM,
            f"CLM*{X * 39}*2***11:B:1*Y*A*Y*Y*P~",
            21,
            "CLM01",
            "claim number (patient control number) is 39",
        ),
        (CLM, "CLM*1606*2***111:B:1*Y*A*Y*Y*P~", 21, "CLM05-1", "place of service code is 3 characters"),
        (CLM, "CLM*1606*2***11:B:12*Y*A*Y*Y*P~", 21, "CLM05-3", "claim frequency code is 2 characters"),
        (
            b"HI*ABK:R69~",
            "HI*ABK:R69123456~",
            22,
            "HI01-2",
            "diagnosis code is 9 characters; the IG allows 30, the claims platform stores at most 8",
        ),
        (
            CLM,
            f"CLM*1606*2***11:B:1*Y*A*Y*Y*P~\nREF*F8*{X * 51}~",
            22,
            "REF02",
            "payer claim control number is 51",
        ),
        (SV1, "SV1*HCX:90834*2*UN*1***1~", 24, "SV1-01-1", "product/service id qualifier is 3 characters"),
        (SV1, f"SV1*HC:{X * 49}*2*UN*1***1~", 24, "SV1-01-2", "procedure code is 49 characters"),
        (SV1, "SV1*HC:90834:25:ABC*2*UN*1***1~", 24, "SV1-01-4", "procedure modifier is 3 characters"),
        (SV1, "SV1*HC:90834*2*UNX*1***1~", 24, "SV1-03", "unit basis code is 3 characters"),
        (SV1, "SV1*HC:90834*2*UN*1*111**1~", 24, "SV1-05", "place of service code is 3 characters"),
        (NPI, f"NM1*85*2*{X * 61}*****XX*1245319599~", 10, "NM103", "organization name is 61 characters"),
        (
            NPI,
            "NM1*85*2*NY UHIN PROVIDER*****XX*12453195990~",
            10,
            "NM109",
            "NPI is 11 characters; the IG allows 80",
        ),
        (NPI, "NM1*85*1*DOE*JANE****XX*1245319599~".replace("JANE", X * 36), 10, "NM104", "first name is 36"),
        (
            b"PRV*BI*PXC*111N00000X~",
            "PRV*BI*PXC*111N00000XX~",
            9,
            "PRV03",
            "taxonomy code is 11 characters; the IG allows 50",
        ),
        (
            b"N4*FLORENCEBERG*MI*841061149~",
            "N4*FLORENCEBERG*MI*84106114900~",
            12,
            "N403",
            "postal code is 11 characters; the IG allows 15, the claims platform stores at most 10",
        ),
        (SUBSCRIBER, f"NM1*IL*1*{X * 61}*RALPH****MI*601239742~", 16, "NM103", "last name is 61 characters"),
        (
            SUBSCRIBER,
            f"NM1*IL*1*MARQUARDT*{X * 61}****MI*601239742~",
            16,
            "NM104",
            "first name is 61 characters",
        ),
        (SUBSCRIBER, f"NM1*IL*1*MARQUARDT*RALPH****MI*{X * 81}~", 16, "NM109", "member identifier is 81"),
        (
            b"N3*57018 ABBOTT ROAD APT 817~",
            f"N3*{X * 56}~",
            17,
            "N301",
            "address line is 56 characters; the claims platform stores at most 55",
        ),
        (b"N3*57018 ABBOTT ROAD APT 817~", f"N3*A*{X * 56}~", 17, "N302", "address line is 56 characters"),
        (
            b"N4*SOUTH JOSEPHLAND*MI*841061149~",
            f"N4*{X * 61}*MI*841061149~",
            18,
            "N401",
            "city name is 61 characters; the claims platform stores at most 60",
        ),
        (
            b"N4*SOUTH JOSEPHLAND*MI*841061149~",
            "N4*SOUTH JOSEPHLAND*MIX*841061149~",
            18,
            "N402",
            "state code is 3",
        ),
        (
            b"SBR*P*18*55555******CI~",
            "SBR*P*181*55555******CI~",
            15,
            "SBR02",
            "relationship code is 3 characters",
        ),
        (PAYER, f"NM1*PR*2*{X * 121}*****PI*FLHIN~", 20, "NM103", "payer name is 121 characters"),
        (
            PAYER,
            f"NM1*PR*2*FLORIDA DIRECT UHIN PAYER*****PI*{X * 81}~",
            20,
            "NM109",
            "payer identifier is 81",
        ),
        # A control character fits the length but not the column (PostgreSQL refuses NUL in text).
        (
            SUBSCRIBER,
            "NM1*IL*1*MARQ\x00UARDT*RALPH****MI*601239742~",
            16,
            "NM103",
            "last name holds a control character",
        ),
        (SV1, "SV1*HC:908\x0734*2*UN*1***1~", 24, "SV1-01-2", "procedure code holds a control character"),
    ],
)
def test_values_longer_than_their_column_are_refused_not_cut(
    uhin: bytes, old: bytes, new: str, position: int, element: str, message: str
) -> None:
    error = _refused(uhin, old, new.encode())

    assert (error.finding.position, error.finding.element) == (position, element)
    assert error.finding.message.startswith(message)
    assert X * 30 not in error.finding.message and "MARQ" not in error.finding.message


def test_values_exactly_as_long_as_their_column_load_whole(uhin: bytes) -> None:
    raw = uhin.replace(SUBSCRIBER, f"NM1*IL*1*{X * 60}*RALPH****MI*{X * 80}~".encode())
    raw = raw.replace(b"N4*SOUTH JOSEPHLAND*MI*841061149~", b"N4*SOUTH JOSEPHLAND*MI*8410611490~")
    claim = _parse(raw, SV1, f"SV1*HC:{X * 48}:25:59*2*UN*1*11**1~".encode()).claims[0]

    assert (len(claim.subscriber.last_or_org_name), len(claim.subscriber.identifier)) == (60, 80)
    assert claim.subscriber.zip_code == "8410611490"
    assert (claim.lines[0].procedure_code, claim.lines[0].modifiers) == (X * 48, ["25", "59"])


def test_ein_that_is_not_nine_digits_is_not_stored_and_says_so(uhin: bytes) -> None:
    parsed = _parse(uhin, b"REF*EI*123456789~", b"REF*EI*12-3456789~")

    assert parsed.claims[0].billing_provider.tax_id == ""
    assert _warnings(parsed, "REF02") == [
        "employer identification number is not 9 digits (10 characters, 9 digits); not stored"
    ]


def test_line_number_that_is_not_a_smallint_is_renumbered_with_a_warning(uhin: bytes) -> None:
    parsed = _parse(uhin, b"LX*1~", b"LX*99999~")

    assert parsed.claims[0].lines[0].line_number == 1
    assert _warnings(parsed, "LX01") == [
        "line number is not a number from 1 to 32767 (5 characters, 5 digits); numbered 1"
    ]


def _model_field(column: str) -> models.Field:
    app_label, model, name = column.split(".")
    field = apps.get_model(app_label, model)._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.base_field if isinstance(field, ArrayField) else field


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.field)
def test_column_limits_equal_the_model_fields(column: Column) -> None:
    assert _model_field(column.field).max_length == column.max_length


@pytest.mark.parametrize("column", NUMERIC_COLUMNS, ids=lambda c: c.field)
def test_numeric_limits_equal_the_model_fields(column: parser837.NumericColumn) -> None:
    field = _model_field(column.field)
    assert isinstance(field, models.DecimalField)
    assert (field.max_digits, field.decimal_places) == (column.max_digits, column.decimal_places)


def test_every_limit_in_the_parser_is_checked_against_a_model() -> None:
    declared = {v for v in vars(parser837).values() if isinstance(v, Column)}
    assert declared == set(COLUMNS)
    declared_numeric = {v for v in vars(parser837).values() if isinstance(v, parser837.NumericColumn)}
    assert declared_numeric == set(NUMERIC_COLUMNS)


@pytest.mark.parametrize("field", ["claims.ClaimLine.line_number", "claims.Claim.line_count"])
def test_smallint_limit_matches_the_line_columns(field: str) -> None:
    assert isinstance(_model_field(field), models.PositiveSmallIntegerField)
    assert SMALLINT_MAX == 2**15 - 1


# -- 8. separators 0x1C-0x1F ----------------------------------------------------------------------------------
def test_information_separators_as_delimiters_parse_like_the_original(uhin: bytes) -> None:
    # X12 allows the ASCII information separators as delimiters: FS (0x1C) ends segments, GS (0x1D)
    # separates elements, US (0x1F) components. The sample uses only '*', ':' and '~' as delimiters.
    text = uhin.decode()
    assert text.count(":") == 5  # ISA16 and the composites CLM05 (two), HI01 and SV1-01: no ':' in data
    converted = text.replace("~\n", "\x1c").replace("~", "\x1c").replace("*", "\x1d").replace(":", "\x1f")

    original = parse_837(uhin, "t.edi", today=TODAY)
    parsed = parse_837(converted.encode(), "t.edi", today=TODAY)

    assert parsed.claims == original.claims
    assert parsed.warnings == original.warnings
