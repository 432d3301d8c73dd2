"""Code checks on a claim: ICD-10-CM diagnosis codes and NPI check digits.

A failed check is recorded on the claim (``Claim.code_check_errors``) as a message; it never stops a load.
ICD-10-CM validity and billability come from simple-icd-10-cm (the CDC/CMS ICD-10-CM tabular list it ships);
ICD-10-CM replaced ICD-9-CM for dates of service on or after 2015-10-01 (45 CFR 162.1002).

Each kind of failed check is a ``CodeCheckKind`` member holding the message template ``claim_code_problems``
writes and the SQL ``LIKE`` pattern that recognises that message again in the database (reporting groups the
stored messages by kind with ``CodeCheckKind.sql_case``). Message and pattern sit side by side, and
``claims/tests/test_codes.py`` runs the generated CASE in PostgreSQL on every message this module can write.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import subprocess
import sys
import threading
import warnings
from types import ModuleType

from django.db import models

from providers.npi import npi_is_valid

ICD10_EFFECTIVE = dt.date(2015, 10, 1)


class CodeCheckKind(models.TextChoices):
    """A kind of failed code check: value, message template, SQL LIKE pattern of the message, label.

    ``template`` is a ``str.format`` template (``message()`` fills it); ``like_pattern`` matches every message
    the template can produce (PostgreSQL docs, "Pattern Matching", LIKE: ``%`` is any run of characters).
    The members are in the order ``sql_case`` tries the patterns, first match wins: the ICD-10-CM messages
    start with a code taken from the file, so they are tried before the patterns that only look at the start.
    ``OTHER`` has neither template nor pattern: it is what a message no pattern matches is counted as.
    """

    # These values and patterns are also in the SQL of the failed-claims materialized view: changing one
    # changes that view's definition (a migrate re-creates it).
    ICD10_INVALID = (
        "icd10_invalid",
        "{code} is not an ICD-10-CM code",
        "% is not an ICD-10-CM code",
        "Diagnosis code is not an ICD-10-CM code",
    )
    ICD10_NOT_BILLABLE = (
        "icd10_not_billable",
        "{code} is an ICD-10-CM category, not a billable code",
        "% is an ICD-10-CM category, not a billable code",
        "Diagnosis code is an ICD-10-CM category, not billable",
    )
    NO_DIAGNOSIS = (
        "no_diagnosis",
        "no diagnosis code (2300 HI)",
        "no diagnosis code%",
        "No diagnosis code sent (2300 HI)",
    )
    ICD9_AFTER_ICD10 = (
        "icd9_after_icd10",
        "ICD-9-CM diagnosis codes (BK/BF) on a claim with service on {service_date}",
        "ICD-9-CM diagnosis codes%",
        "ICD-9-CM codes on a service on or after 2015-10-01",
    )
    DIAGNOSIS_POINTER = (
        "diagnosis_pointer",
        "line {line}: diagnosis pointer {pointer} points past the {codes} codes",
        "line %: diagnosis pointer %",
        "Line diagnosis pointer past the codes sent",
    )
    BILLING_NPI_CHECK_DIGIT = (
        "billing_npi_check_digit",
        "billing provider NPI {npi} fails the NPI check digit",
        "billing provider NPI %",
        "Billing provider NPI fails the check digit",
    )
    RENDERING_NPI_CHECK_DIGIT = (
        "rendering_npi_check_digit",
        "rendering provider NPI {npi} fails the NPI check digit",
        "rendering provider NPI %",
        "Rendering provider NPI fails the check digit",
    )
    OTHER = "other", "", "", "Other code-check problem"

    template: str
    like_pattern: str

    # Builds the members from their tuples (Django's ChoicesType has already taken the label, the last item,
    # off). After the class is made, CodeCheckKind("icd10_invalid") is Enum's lookup by value, which never
    # reaches this method: the defaults only let type checkers accept that one-argument call.
    def __new__(cls, value: str, template: str = "", like_pattern: str = "") -> CodeCheckKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.template = template
        member.like_pattern = like_pattern
        return member

    def message(self, **fields: object) -> str:
        """The message of this kind, ``template`` filled with ``fields``. Raises ValueError for ``OTHER``
        (it has no message of its own) and KeyError for a missing field."""
        if not self.template:
            raise ValueError(f"{self.value} has no message template")
        return self.template.format(**fields)

    @classmethod
    def of(cls, message: str) -> CodeCheckKind:
        """The kind of a stored message, by the same patterns in the same order as ``sql_case``."""
        for kind in cls:
            if kind.like_pattern and _like_regex(kind.like_pattern).fullmatch(message):
                return kind
        return cls.OTHER

    @classmethod
    def sql_case(cls, expression: str) -> str:
        """A SQL ``CASE`` giving the kind (value) of the message in ``expression`` (a column reference such
        as ``e.problem``, never user input): each pattern in member order, else ``'other'``. Multi-line,
        indented by four spaces, without a leading or trailing newline."""
        whens = [
            f"    WHEN {expression} LIKE {_sql_text(kind.like_pattern)} THEN {_sql_text(kind.value)}"
            for kind in cls
            if kind.like_pattern
        ]
        return "\n".join(["CASE", *whens, f"    ELSE {_sql_text(cls.OTHER.value)}", "END"])


@functools.cache
def _like_regex(pattern: str) -> re.Pattern[str]:
    # LIKE's wildcards: % any run of characters, _ one character (PostgreSQL docs, "Pattern Matching").
    return re.compile(
        "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern), re.S
    )


def _sql_text(value: str) -> str:
    """A SQL string literal (quotes doubled; standard_conforming_strings is on by default since 9.1)."""
    return "'" + value.replace("'", "''") + "'"


# simple_icd_10_cm fills its code lists lazily, on the first call that needs them, without a lock: under threads
# (gunicorn's gthread workers) a second thread read a half-filled list, and the claim page failed with a 500 (seen
# in the load test). Every call into the library from a thread that serves requests holds this lock.
ICD10CM_LOCK = threading.Lock()


@functools.cache
def _icd() -> ModuleType:
    # Loading the tabular list takes ~1.8 s: once per process, and only when a code is checked.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


# Run in a child process: it prints every ICD-10-CM item (chapters, blocks, categories, codes; no dots) on one line
# and the billable leaves on the next.
_ICD10CM_DUMP = """
import warnings
warnings.simplefilter("ignore", DeprecationWarning)
import simple_icd_10_cm as icd
codes = icd.get_all_codes(False)
print(" ".join(codes))
print(" ".join(c for c in codes if icd.is_leaf(c)))
"""


def icd10cm_sets_load() -> None:
    """Load the ICD-10-CM sets in this process now (a few seconds, once): a process forked after it inherits them
    instead of each loading them again (ingest's reader, ``claims.services.ingest_read``)."""
    _icd10cm_codes()


@functools.cache
def _icd10cm_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(every valid ICD-10-CM item, the billable leaves), without dots, as read from ``simple_icd_10_cm``.

    Read in a child process: the library keeps its whole XML tabular list (~180 MB) for the life of the process
    that imports it, and an ingest process would carry that through a million claims; the two sets are ~10 MB.
    Raises ``subprocess.CalledProcessError`` when the child fails.
    """
    dump = subprocess.run(
        [sys.executable, "-c", _ICD10CM_DUMP], capture_output=True, text=True, check=True, timeout=300
    )
    items, leaves = dump.stdout.splitlines()
    return frozenset(items.split()), frozenset(leaves.split())


@functools.cache
def icd10cm_problem(code: str) -> str | None:
    """Why ``code`` (no dot, e.g. "E119") is not a billable ICD-10-CM code, or None when it is.

    Valid means a tabular-list item, billable a leaf (no subdivisions): ICD-10-CM Official Guidelines for Coding
    and Reporting, Section I.A.6 ("codes ... must be used at their highest number of characters available").
    """
    items, leaves = _icd10cm_codes()
    if code not in items:
        return CodeCheckKind.ICD10_INVALID.message(code=code)
    if code not in leaves:
        return CodeCheckKind.ICD10_NOT_BILLABLE.message(code=code)
    return None


def claim_code_problems(
    *,
    diagnosis_codes: list[str],
    diagnosis_code_system: str,
    service_date_from: dt.date,
    pointers: list[list[int]],
    billing_npi: str,
    rendering_npi: str | None,
) -> list[str]:
    """Messages for every failed check on one claim (empty when all pass), each a ``CodeCheckKind`` message.

    ``pointers`` holds each line's SV1-07 diagnosis pointers (1-based into ``diagnosis_codes``).
    """
    problems: list[str] = []
    if not diagnosis_codes:
        problems.append(CodeCheckKind.NO_DIAGNOSIS.message())
    elif diagnosis_code_system == "icd10cm":
        for code in diagnosis_codes:
            problem = icd10cm_problem(code)
            if problem:
                problems.append(problem)
    elif service_date_from >= ICD10_EFFECTIVE:
        problems.append(CodeCheckKind.ICD9_AFTER_ICD10.message(service_date=service_date_from))
    for line_no, line_pointers in enumerate(pointers, start=1):
        for p in line_pointers:
            if p < 1 or p > len(diagnosis_codes):
                problems.append(
                    CodeCheckKind.DIAGNOSIS_POINTER.message(
                        line=line_no, pointer=p, codes=len(diagnosis_codes)
                    )
                )
    if not npi_is_valid(billing_npi):
        problems.append(CodeCheckKind.BILLING_NPI_CHECK_DIGIT.message(npi=billing_npi))
    if rendering_npi is not None and not npi_is_valid(rendering_npi):
        problems.append(CodeCheckKind.RENDERING_NPI_CHECK_DIGIT.message(npi=rendering_npi))
    return problems
