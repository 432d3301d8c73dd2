"""The adjudication edits: what each one checks, what it does, and the codes it reports.

Codes come from the published lists, kept here as a small table: Claim Adjustment Reason Codes (CARC) and
Remittance Advice Remark Codes (RARC) as maintained by X12 (x12.org/codes), claim adjustment group codes from
the 005010X221A1 implementation guide, 2100 CAS01 (CO contractual obligation, PR patient responsibility,
OA other adjustment). An edit either denies (the whole claim, or one service line) or pends the claim for an
examiner with a pend reason the work queue shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from claims.carc import Carc


class GroupCode(models.TextChoices):
    """Claim adjustment group code (005010X221A1 CAS01)."""

    CONTRACTUAL = "CO", "Contractual obligation"
    PATIENT = "PR", "Patient responsibility"
    OTHER = "OA", "Other adjustment"


class Rarc(models.TextChoices):
    """The Remittance Advice Remark Codes the edits use (X12 RARC list)."""

    M54 = "M54", "Missing/incomplete/invalid total charges"
    M76 = "M76", "Missing/incomplete/invalid diagnosis or condition"
    N257 = "N257", "Missing/incomplete/invalid billing provider/supplier primary identifier"
    M51 = "M51", "Missing/incomplete/invalid procedure code(s)"
    N519 = "N519", "Invalid combination of HCPCS modifiers"


class PendReason(models.TextChoices):
    """Why a claim waits for an examiner (the work queue's reason column)."""

    ELIGIBILITY = "eligibility", "Eligibility not on file"
    UNLISTED = "unlisted", "Unlisted procedure code"
    HIGH_CHARGE = "high_charge", "Charge above the plan's review threshold"
    MODIFIER_22 = "modifier_22", "Modifier 22 (increased procedural services)"
    REVIEW = "review", "Pended for medical review"
    VALIDATION = "validation", "999 rejected the file"
    EXAMINER = "examiner", "Pended by an examiner"
    ORIGINAL = "original", "No open original claim to replace or void"


class Action(models.TextChoices):
    DENY_CLAIM = "deny_claim", "Deny the claim"
    END_ORIGINAL = "end_original", "End the original claim (replaced or voided)"
    DENY_LINE = "deny_line", "Deny the service line"
    PEND = "pend", "Pend for review"
    PRICE = "price", "Priced differently"


@dataclass(frozen=True)
class Edit:
    """One edit: its id (recorded on the claim when it fires), action, codes and a one-line description."""

    id: str
    action: str
    description: str
    carc: str = ""
    rarc: str = ""
    group: str = GroupCode.CONTRACTUAL
    pend_reason: str = ""


_EDITS = (
    Edit(
        "eligibility_not_on_file",
        Action.PEND,
        "No enrollment on file for the member",
        pend_reason=PendReason.ELIGIBILITY,
    ),
    Edit(
        "before_coverage",
        Action.DENY_LINE,
        "Service before the member's coverage began",
        carc=Carc.BEFORE_COVERAGE,
    ),
    Edit(
        "after_coverage",
        Action.DENY_LINE,
        "Service after the member's coverage ended",
        carc=Carc.AFTER_COVERAGE,
    ),
    Edit(
        "timely_filing", Action.DENY_CLAIM, "Received after the plan's filing limit", carc=Carc.TIMELY_FILING
    ),
    Edit(
        "charge_mismatch",
        Action.DENY_CLAIM,
        "CLM02 is not the sum of the service lines' SV102 (005010X222A1 2300 CLM02 note)",
        carc=Carc.MISSING_INFORMATION,
        rarc=Rarc.M54,
    ),
    Edit("exact_duplicate", Action.DENY_CLAIM, "Exact duplicate of a claim on file", carc=Carc.DUPLICATE),
    Edit(
        "replacement",
        Action.END_ORIGINAL,
        "Replacement (CLM05-3 = 7): the original is replaced, this claim decided in its place",
    ),
    Edit("void", Action.END_ORIGINAL, "Void (CLM05-3 = 8): the original and this claim are voided"),
    Edit(
        "original_not_open",
        Action.PEND,
        "Replacement or void whose original is missing or already replaced or voided",
        pend_reason=PendReason.ORIGINAL,
    ),
    Edit(
        "diagnosis_invalid",
        Action.DENY_CLAIM,
        "A diagnosis code is not a billable ICD-10-CM code on the date of service",
        carc=Carc.MISSING_INFORMATION,
        rarc=Rarc.M76,
    ),
    Edit(
        "billing_npi_invalid",
        Action.DENY_CLAIM,
        "The billing provider's NPI fails its check digit",
        carc=Carc.MISSING_INFORMATION,
        rarc=Rarc.N257,
    ),
    Edit(
        "procedure_invalid",
        Action.DENY_LINE,
        "Not a HCPCS/CPT code",
        carc=Carc.PROCEDURE_CODE_INVALID,
        rarc=Rarc.M51,
    ),
    Edit(
        "modifier_invalid",
        Action.DENY_LINE,
        "Not a HCPCS modifier",
        carc=Carc.MODIFIER_INVALID,
        rarc=Rarc.N519,
    ),
    Edit(
        "out_of_network_denied",
        Action.DENY_CLAIM,
        "Provider outside the plan's network",
        carc=Carc.OUT_OF_NETWORK,
    ),
    Edit(
        "out_of_network_priced",
        Action.PRICE,
        "Provider outside the network: priced at the out-of-network rate",
    ),
    Edit("unlisted_procedure", Action.PEND, "Unlisted procedure code", pend_reason=PendReason.UNLISTED),
    Edit(
        "high_charge",
        Action.PEND,
        "Charge above the plan's review threshold",
        pend_reason=PendReason.HIGH_CHARGE,
    ),
    Edit("modifier_22", Action.PEND, "Modifier 22 needs review", pend_reason=PendReason.MODIFIER_22),
)
EDITS: dict[str, Edit] = {e.id: e for e in _EDITS}

# Unlisted ("not otherwise classified") HCPCS/CPT codes: payment needs a person to read the documentation.
UNLISTED_CODES = frozenset(
    {
        "99499",
        "99199",
        "96999",
        "97799",
        "64999",
        "20999",
        "17999",
        "J3490",
        "J3590",
        "J9999",
        "A9999",
        "E1399",
    }
)
