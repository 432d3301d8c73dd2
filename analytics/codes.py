"""Readable labels for the reasons ``FailedClaimsMonthly`` groups by: CARCs, code-check problems, file errors.

CARC descriptions are shortened from the X12 Claim Adjustment Reason Code list (x12.org/codes/claim-adjustment-
reason-codes) for the codes payers use most; any other code is shown as "CARC <code>" with a pointer to the list.
"""

from __future__ import annotations

CARC_DESCRIPTIONS: dict[str, str] = {
    "1": "Deductible amount",
    "2": "Coinsurance amount",
    "3": "Co-payment amount",
    "4": "Procedure code inconsistent with the modifier used",
    "5": "Procedure code inconsistent with the place of service",
    "6": "Procedure inconsistent with the patient's age",
    "9": "Diagnosis inconsistent with the patient's age",
    "11": "Diagnosis inconsistent with the procedure",
    "15": "Authorization number missing, invalid or not for these services",
    "16": "Claim lacks information or has submission/billing errors",
    "18": "Exact duplicate claim/service",
    "22": "May be covered by another payer (coordination of benefits)",
    "23": "Impact of prior payer(s) adjudication",
    "26": "Expenses incurred before coverage",
    "27": "Expenses incurred after coverage terminated",
    "29": "Time limit for filing has expired",
    "31": "Patient cannot be identified as our insured",
    "45": "Charge exceeds fee schedule / maximum allowable",
    "50": "Not deemed a medical necessity by the payer",
    "96": "Non-covered charge(s)",
    "97": "Included in the payment for another service already adjudicated",
    "109": "Not covered by this payer/contractor",
    "119": "Benefit maximum for this period or occurrence reached",
    "151": "Information does not support this many/frequency of services",
    "167": "Diagnosis is not covered",
    "181": "Procedure code invalid on the date of service",
    "182": "Procedure modifier invalid on the date of service",
    "197": "Precertification/authorization/notification absent",
    "204": "Service not covered under the patient's current benefit plan",
    "242": "Services not provided by network/primary care providers",
    "252": "Attachment/other documentation required to adjudicate",
}


def carc_description(code: str) -> str:
    return CARC_DESCRIPTIONS.get(code, f"CARC {code} (see the X12 CARC list)" if code else "No CARC recorded")


# FailedClaimsMonthly classifies each code-check problem (analytics.sql.CODE_CHECK_KIND); a claim counts once
# per kind.
_CODE_CHECK_LABELS: dict[str, str] = {
    "no_diagnosis": "No diagnosis code sent (2300 HI)",
    "icd10_invalid": "Diagnosis code is not an ICD-10-CM code",
    "icd10_not_billable": "Diagnosis code is an ICD-10-CM category, not billable",
    "icd9_after_icd10": "ICD-9-CM codes on a service on or after 2015-10-01",
    "diagnosis_pointer": "Line diagnosis pointer past the codes sent",
    "billing_npi_check_digit": "Billing provider NPI fails the check digit",
    "rendering_npi_check_digit": "Rendering provider NPI fails the check digit",
    "other": "Other code-check problem",
}


def code_check_label(reason: str) -> str:
    return _CODE_CHECK_LABELS.get(reason, reason or "Unclassified code-check problem")


def file_rejection_label(segment: str) -> str:
    """A rejected file is keyed by the segment of its first error (claims.services.ingest)."""
    return f"First error at a {segment} segment" if segment else "Rejected before the first segment"
