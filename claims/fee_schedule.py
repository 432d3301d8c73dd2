"""Relative value units (RVUs) of common CPT/HCPCS codes, for provider productivity reports.

Values are approximate national non-facility total RVUs (work + practice expense + malpractice) from the CMS
Medicare Physician Fee Schedule, 2024 release, rounded to 2 decimals; they are illustrative, for reports on
demo data, not for payment. Codes paid outside the PFS (clinical laboratory fee schedule, drug and vaccine
products: 36415, 80053, 85025, 81002, 90686, J3420) have no RVU and count 0.
Source: CMS PFS Relative Value Files (https://www.cms.gov/medicare/payment/fee-schedules/physician).
"""

from __future__ import annotations

from decimal import Decimal

TOTAL_RVU: dict[str, Decimal] = {
    code: Decimal(value)
    for code, value in {
        # Office / outpatient E/M, new and established patients
        "99202": "2.12",
        "99203": "3.26",
        "99204": "4.89",
        "99205": "6.45",
        "99211": "0.69",
        "99212": "1.71",
        "99213": "2.65",
        "99214": "3.75",
        "99215": "5.24",
        # Preventive medicine visits
        "99385": "3.76",
        "99386": "4.33",
        "99395": "3.95",
        "99396": "4.22",
        # Procedures, injections, ECG
        "93000": "0.49",
        "90471": "0.50",
        "96372": "0.46",
        "20610": "1.86",
        "11721": "1.27",
        "98940": "0.83",
        # Therapy (per 15-minute unit) and psychotherapy
        "97110": "0.86",
        "97140": "0.79",
        "97530": "1.04",
        "90834": "2.96",
        "90837": "4.36",
    }.items()
}


def line_rvus(procedure_code: str, units: Decimal) -> Decimal:
    """Total RVUs of a service line: RVU of the code x units, 0 for codes without an RVU. Shape: Decimal."""
    rvu = TOTAL_RVU.get(procedure_code)
    if rvu is None:
        return Decimal("0")
    return (rvu * units).quantize(Decimal("0.01"))
