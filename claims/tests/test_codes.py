"""Code-check messages: the texts claims have always carried, each classified to its own kind in PostgreSQL.

``CodeCheckKind`` keeps each message's template beside the SQL LIKE pattern reporting uses to group the stored
messages (``CodeCheckKind.sql_case``, the CASE of the failed-claims view). These tests run that CASE on every
message ``claim_code_problems`` can write, so a reworded message that its pattern no longer matches fails here.
"""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from django.db import connection

from claims.carc import Carc, carc_description
from claims.codes import CodeCheckKind, claim_code_problems, icd10cm_problem
from providers.npi import npi_check_digit

VALID_NPI = "123456789" + str(npi_check_digit("123456789"))  # 1234567893
BAD_NPI = "1234567890"  # wrong check digit


def problems(
    *,
    codes: list[str],
    system: str = "icd10cm",
    service: dt.date = dt.date(2026, 3, 2),
    pointers: list[list[int]] | None = None,
    billing_npi: str = VALID_NPI,
    rendering_npi: str | None = None,
) -> list[str]:
    return claim_code_problems(
        diagnosis_codes=codes,
        diagnosis_code_system=system,
        service_date_from=service,
        pointers=pointers or [],
        billing_npi=billing_npi,
        rendering_npi=rendering_npi,
    )


Case = tuple[list[str], list[tuple[str, CodeCheckKind]]]  # (messages written, [(expected message, kind)])


@functools.cache
def cases() -> list[Case]:
    """Every branch of claim_code_problems, with the messages it wrote before CodeCheckKind existed (byte for
    byte) and the kind each must be classified as. Codes and NPIs come from the file, so some are odd on
    purpose: a code that reads like the start of another message, LIKE wildcards, a quote.

    A function, not a constant: the checks load the ICD-10-CM code set (~2 s), which collection should not.
    """
    return [
        (
            problems(codes=[], pointers=[[1]]),
            [
                ("no diagnosis code (2300 HI)", CodeCheckKind.NO_DIAGNOSIS),
                ("line 1: diagnosis pointer 1 points past the 0 codes", CodeCheckKind.DIAGNOSIS_POINTER),
            ],
        ),
        (
            problems(codes=["Q999X", "E11", "E119", "billing provider NPI 1", "50%_'x"]),
            [
                ("Q999X is not an ICD-10-CM code", CodeCheckKind.ICD10_INVALID),
                ("E11 is an ICD-10-CM category, not a billable code", CodeCheckKind.ICD10_NOT_BILLABLE),
                ("billing provider NPI 1 is not an ICD-10-CM code", CodeCheckKind.ICD10_INVALID),
                ("50%_'x is not an ICD-10-CM code", CodeCheckKind.ICD10_INVALID),
            ],
        ),
        (
            problems(codes=["25000"], system="icd9cm", service=dt.date(2016, 1, 5)),
            [
                (
                    "ICD-9-CM diagnosis codes (BK/BF) on a claim with service on 2016-01-05",
                    CodeCheckKind.ICD9_AFTER_ICD10,
                ),
            ],
        ),
        (problems(codes=["25000"], system="icd9cm", service=dt.date(2015, 9, 30)), []),
        (
            problems(codes=["E119"], pointers=[[1], [0, 2, 12]], billing_npi=BAD_NPI, rendering_npi="12345"),
            [
                ("line 2: diagnosis pointer 0 points past the 1 codes", CodeCheckKind.DIAGNOSIS_POINTER),
                ("line 2: diagnosis pointer 2 points past the 1 codes", CodeCheckKind.DIAGNOSIS_POINTER),
                ("line 2: diagnosis pointer 12 points past the 1 codes", CodeCheckKind.DIAGNOSIS_POINTER),
                (
                    "billing provider NPI 1234567890 fails the NPI check digit",
                    CodeCheckKind.BILLING_NPI_CHECK_DIGIT,
                ),
                (
                    "rendering provider NPI 12345 fails the NPI check digit",
                    CodeCheckKind.RENDERING_NPI_CHECK_DIGIT,
                ),
            ],
        ),
        (problems(codes=["E119"], pointers=[[1]], rendering_npi=VALID_NPI), []),
    ]


def test_messages_are_byte_identical_to_the_ones_claims_already_carry() -> None:
    for written, expected in cases():
        assert written == [message for message, _ in expected]


def test_every_kind_with_a_message_is_written_by_some_branch() -> None:
    kinds = {kind for _, expected in cases() for _, kind in expected}

    assert kinds == set(CodeCheckKind) - {CodeCheckKind.OTHER}


@pytest.mark.django_db
def test_the_sql_case_classifies_every_message_as_its_own_kind() -> None:
    expected = {message: kind.value for _, pairs in cases() for message, kind in pairs}
    unknown = ["", "a message no check writes", "ICD-9-CM", "line 3 diagnosis pointer 4"]

    # The messages go in as a parameter, so the CASE's LIKE wildcards are doubled for psycopg's placeholders.
    case = CodeCheckKind.sql_case("e.problem").replace("%", "%%")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.problem, {case} FROM unnest(%s::text[]) AS e(problem)", [[*expected, *unknown]]
        )
        classified = dict(cursor.fetchall())

    assert classified == {**expected, **dict.fromkeys(unknown, "other")}


def test_the_sql_case_tries_the_patterns_in_member_order() -> None:
    assert CodeCheckKind.sql_case("e.problem") == "\n".join(
        [
            "CASE",
            "    WHEN e.problem LIKE '% is not an ICD-10-CM code' THEN 'icd10_invalid'",
            "    WHEN e.problem LIKE '% is an ICD-10-CM category, not a billable code' THEN 'icd10_not_billable'",
            "    WHEN e.problem LIKE 'no diagnosis code%' THEN 'no_diagnosis'",
            "    WHEN e.problem LIKE 'ICD-9-CM diagnosis codes%' THEN 'icd9_after_icd10'",
            "    WHEN e.problem LIKE 'line %: diagnosis pointer %' THEN 'diagnosis_pointer'",
            "    WHEN e.problem LIKE 'billing provider NPI %' THEN 'billing_npi_check_digit'",
            "    WHEN e.problem LIKE 'rendering provider NPI %' THEN 'rendering_npi_check_digit'",
            "    ELSE 'other'",
            "END",
        ]
    )


def test_kinds_carry_their_labels_and_other_has_no_message() -> None:
    assert CodeCheckKind("icd10_invalid") is CodeCheckKind.ICD10_INVALID
    assert CodeCheckKind.NO_DIAGNOSIS.label == "No diagnosis code sent (2300 HI)"
    assert CodeCheckKind.OTHER.label == "Other code-check problem"
    assert icd10cm_problem("E119") is None
    with pytest.raises(ValueError, match="no message template"):
        CodeCheckKind.OTHER.message()
    with pytest.raises(KeyError):
        CodeCheckKind.ICD10_INVALID.message()


def test_carc_descriptions_and_their_fallbacks() -> None:
    assert Carc.NOT_MEDICALLY_NECESSARY == "50"
    assert carc_description("50") == "Not deemed a medical necessity by the payer"
    assert carc_description("16") == "Claim lacks information or has submission/billing errors"
    assert carc_description("999") == "CARC 999 (see the X12 CARC list)"
    assert carc_description("050") == "CARC 050 (see the X12 CARC list)"  # codes are compared as sent
    assert carc_description("") == "No CARC recorded"
    assert len(Carc) == 31


def test_the_compact_icd10cm_sets_agree_with_the_library() -> None:
    """icd10cm_problem reads two sets dumped by a child process; they must say what the library says."""
    from claims.codes import _icd, _icd10cm_codes

    items, leaves = _icd10cm_codes()
    icd = _icd()
    assert len(items) > 90_000 and len(leaves) > 70_000
    for code in ("E119", "E11", "A00-A09", "I10", "Z0000", "S72001A", "E11.9", "ZZZ9", "1", "R51"):
        assert (code.replace(".", "") in items) == icd.is_valid_item(code), code
        if icd.is_valid_item(code):
            assert (code.replace(".", "") in leaves) == icd.is_leaf(code), code
