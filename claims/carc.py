"""Claim Adjustment Reason Codes (CARC): why a payer paid a claim differently from what was billed.

Source: the X12 Claim Adjustment Reason Code list (https://x12.org/codes/claim-adjustment-reason-codes),
maintained by the X12 Code Maintenance Committee and used in 835 CAS segments. ``Carc`` holds the codes payers
use most, with descriptions shortened from that list; a denial's code is stored as it came
(``Claim.denial_reason_code``), so any other code is valid too and ``carc_description`` points to the list.
"""

from __future__ import annotations

from django.db import models


class Carc(models.TextChoices):
    """The common CARCs: value = the code as sent ("50"), label = a shortened description."""

    DEDUCTIBLE = "1", "Deductible amount"
    COINSURANCE = "2", "Coinsurance amount"
    COPAYMENT = "3", "Co-payment amount"
    MODIFIER_INCONSISTENT = "4", "Procedure code inconsistent with the modifier used"
    PLACE_OF_SERVICE_INCONSISTENT = "5", "Procedure code inconsistent with the place of service"
    PROCEDURE_AGE_INCONSISTENT = "6", "Procedure inconsistent with the patient's age"
    DIAGNOSIS_AGE_INCONSISTENT = "9", "Diagnosis inconsistent with the patient's age"
    DIAGNOSIS_PROCEDURE_INCONSISTENT = "11", "Diagnosis inconsistent with the procedure"
    AUTHORIZATION_INVALID = "15", "Authorization number missing, invalid or not for these services"
    MISSING_INFORMATION = "16", "Claim lacks information or has submission/billing errors"
    DUPLICATE = "18", "Exact duplicate claim/service"
    OTHER_PAYER = "22", "May be covered by another payer (coordination of benefits)"
    PRIOR_PAYER_ADJUDICATION = "23", "Impact of prior payer(s) adjudication"
    BEFORE_COVERAGE = "26", "Expenses incurred before coverage"
    AFTER_COVERAGE = "27", "Expenses incurred after coverage terminated"
    TIMELY_FILING = "29", "Time limit for filing has expired"
    PATIENT_NOT_IDENTIFIED = "31", "Patient cannot be identified as our insured"
    EXCEEDS_FEE_SCHEDULE = "45", "Charge exceeds fee schedule / maximum allowable"
    NOT_MEDICALLY_NECESSARY = "50", "Not deemed a medical necessity by the payer"
    NON_COVERED = "96", "Non-covered charge(s)"
    INCLUDED_IN_ANOTHER_SERVICE = "97", "Included in the payment for another service already adjudicated"
    NOT_COVERED_BY_PAYER = "109", "Not covered by this payer/contractor"
    BENEFIT_MAXIMUM = "119", "Benefit maximum for this period or occurrence reached"
    FREQUENCY_NOT_SUPPORTED = "151", "Information does not support this many/frequency of services"
    DIAGNOSIS_NOT_COVERED = "167", "Diagnosis is not covered"
    PROCEDURE_CODE_INVALID = "181", "Procedure code invalid on the date of service"
    MODIFIER_INVALID = "182", "Procedure modifier invalid on the date of service"
    AUTHORIZATION_ABSENT = "197", "Precertification/authorization/notification absent"
    NOT_IN_BENEFIT_PLAN = "204", "Service not covered under the patient's current benefit plan"
    OUT_OF_NETWORK = "242", "Services not provided by network/primary care providers"
    DOCUMENTATION_REQUIRED = "252", "Attachment/other documentation required to adjudicate"


def carc_description(code: str) -> str:
    """The description of CARC ``code`` ("50"): ``Carc``'s label, "CARC <code> (see the X12 CARC list)" for a
    code not in ``Carc``, "No CARC recorded" for "" (or None, from a NULL column). Never raises."""
    try:
        return Carc(code).label
    except ValueError:
        return f"CARC {code} (see the X12 CARC list)" if code else "No CARC recorded"
