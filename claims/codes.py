"""Code checks on a claim: ICD-10-CM diagnosis codes and NPI check digits.

A failed check is recorded on the claim (``Claim.code_check_errors``); it never stops a load.
ICD-10-CM validity and billability come from simple-icd-10-cm (the CDC/CMS ICD-10-CM tabular list it ships);
ICD-10-CM replaced ICD-9-CM for dates of service on or after 2015-10-01 (45 CFR 162.1002).
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from types import ModuleType

from providers.npi import npi_is_valid

ICD10_EFFECTIVE = dt.date(2015, 10, 1)


@functools.cache
def _icd() -> ModuleType:
    # Loading the tabular list takes ~1.8 s: once per process, and only when a code is checked.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


@functools.cache
def icd10cm_problem(code: str) -> str | None:
    """Why ``code`` (no dot, e.g. "E119") is not a billable ICD-10-CM code, or None when it is."""
    icd = _icd()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if not icd.is_valid_item(code):
            return f"{code} is not an ICD-10-CM code"
        if not icd.is_leaf(code):
            return f"{code} is an ICD-10-CM category, not a billable code"
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
    """Messages for every failed check on one claim (empty when all pass).

    ``pointers`` holds each line's SV1-07 diagnosis pointers (1-based into ``diagnosis_codes``).
    """
    problems: list[str] = []
    if not diagnosis_codes:
        problems.append("no diagnosis code (2300 HI)")
    elif diagnosis_code_system == "icd10cm":
        for code in diagnosis_codes:
            problem = icd10cm_problem(code)
            if problem:
                problems.append(problem)
    elif service_date_from >= ICD10_EFFECTIVE:
        problems.append(f"ICD-9-CM diagnosis codes (BK/BF) on a claim with service on {service_date_from}")
    for line_no, line_pointers in enumerate(pointers, start=1):
        for p in line_pointers:
            if p < 1 or p > len(diagnosis_codes):
                problems.append(
                    f"line {line_no}: diagnosis pointer {p} points past the {len(diagnosis_codes)} codes"
                )
    if not npi_is_valid(billing_npi):
        problems.append(f"billing provider NPI {billing_npi} fails the NPI check digit")
    if rendering_npi is not None and not npi_is_valid(rendering_npi):
        problems.append(f"rendering provider NPI {rendering_npi} fails the NPI check digit")
    return problems
