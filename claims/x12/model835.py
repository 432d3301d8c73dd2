"""What ``claims.x12.writer835`` writes: one 835 remittance (one payee, one payment), as plain values.

The writer is typed against these and nothing else, so any source of decisions (the ``generate_835`` command
reading decided claims, a test) builds them; the writer never imports its callers.
They hold exactly what goes into the file: names in the X12 basic character set, money as ``Decimal`` dollars
(whole cents), dates as ``datetime.date``. Loop and segment names are those of the ASC X12 005010X221A1
implementation guide (Health Care Claim Payment/Advice), "IG" below.

Signs. Every amount here is as the payer decided it, positive for an ordinary payment. A reversal of an earlier
payment (CLP02 = 22) is the *original* claim payment with ``reversal=True``: the writer negates its money
amounts (IG section 1.10.2.8, reversals and corrections), so the same values that were sent once can be sent
back to take the payment out again. PLB amounts follow the IG: positive reduces the payment (money withheld
from the payee), negative increases it (interest paid to the payee, for instance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

# CLP02 claim status codes of the IG (2100 CLP02). 22 is not among the values a ClaimPayment holds: a
# reversal is the original payment with ``reversal=True`` (see ``ClaimPayment``).
CLAIM_STATUS_CODES = frozenset({"1", "2", "3", "4", "19", "20", "21", "23", "25"})
REVERSAL_STATUS = "22"
# CLP06 claim filing indicator codes of the IG (2100 CLP06). A subset of the 837P's SBR09 list (code list
# 1032): the 837P's "CI" (commercial) and "BL" (Blue Cross/Blue Shield) are not allowed in an 835, so a
# caller mapping ``members.models.PlanType`` values must translate those two.
CLAIM_FILING_CODES = frozenset(
    {
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "CH",
        "DS",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    }
)
# CAS01 claim adjustment group codes (2100 and 2110 CAS01): contractual obligation, other adjustment,
# payer-initiated reduction, patient responsibility.
ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "PR"})
# BPR04 payment methods written here: check, ACH (CCP/CTX), and NON (no payment: BPR02 is zero).
PAYMENT_METHODS = frozenset({"CHK", "ACH", "NON"})


@dataclass(frozen=True, slots=True)
class RemitAddress:
    """N3/N4 of the payer (1000A) or the payee (1000B). ``zip_code`` is 5 or 9 digits, no dash."""

    line1: str
    city: str
    state_code: str
    zip_code: str
    line2: str = ""


@dataclass(frozen=True, slots=True)
class RemitPayer:
    """The payer, loop 1000A: N1*PR (name), N3, N4, REF*2U (``payer_id``, the id the 837P named it by in
    2010BB NM109), and PER*BL, the technical contact the IG requires in every 835.

    ``tax_id`` is the payer's EIN, 9 digits: TRN03 (and BPR10 for electronic payments) is "1" followed by it
    (IG header TRN03, BPR10: "must be identical to TRN03"). ``contact_phone`` is 10 digits (PER*BL TE);
    ``contact_email`` is written as a second communication number (EM) when not "".
    """

    name: str
    payer_id: str
    tax_id: str
    address: RemitAddress
    contact_name: str
    contact_phone: str
    contact_email: str = ""

    @property
    def originating_company_id(self) -> str:
        """TRN03 / BPR10: "1" + the 9-digit EIN (10 characters, IG header TRN03)."""
        return "1" + self.tax_id


@dataclass(frozen=True, slots=True)
class RemitPayee:
    """The payee (the billing provider), loop 1000B: N1*PE with XX (NPI, 10 digits), N3, N4, REF*TJ (the
    9-digit federal tax id)."""

    name: str
    npi: str
    tax_id: str
    address: RemitAddress


@dataclass(frozen=True, slots=True)
class RemitPayment:
    """The payment, header BPR: ``amount`` (BPR02, dollars, zero or positive), ``method`` (BPR04: "CHK",
    "ACH", or "NON" when ``amount`` is zero), ``date`` (BPR16, the check issue or EFT effective date).

    For "ACH" the bank fields are required: ``sender_dfi_id``/``receiver_dfi_id`` are ABA routing numbers
    (BPR07/BPR13, 9 digits), ``sender_account``/``receiver_account`` the account numbers (BPR09/BPR15),
    ``receiver_account_type`` "DA" (demand deposit) or "SG" (savings) (BPR14), ``payment_format`` "CCP"
    (BPR05: ACH CCD+ with the addenda; "CTX" for the CTX format). For "CHK" and "NON" they stay "".
    """

    amount: Decimal
    method: str
    date: dt.date
    sender_dfi_id: str = ""
    sender_account: str = ""
    receiver_dfi_id: str = ""
    receiver_account: str = ""
    receiver_account_type: str = "DA"
    payment_format: str = "CCP"


@dataclass(frozen=True, slots=True)
class RemitPerson:
    """A person in loop 2100: the patient (NM1*QC) or, when the patient is a dependent, the insured (NM1*IL).

    ``member_id`` is written with qualifier MI (member identification number) in NM108/NM109; "" omits it
    (allowed for NM1*QC only, NM1*IL requires it).
    """

    last_name: str
    first_name: str
    member_id: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet (2100 claim-level or 2110 line-level CAS): ``group_code`` (CAS01: CO, OA, PI, PR),
    ``reason_code`` (CARC, e.g. "45"), ``amount`` (dollars; positive reduces the payment), ``quantity``
    (optional, e.g. units denied).

    The writer puts all triplets of one group code in one CAS segment, six per segment (IG CAS: "use
    another CAS with the same CAS01 for more than six reasons").
    """

    group_code: str
    reason_code: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """One service line, loop 2110: SVC, DTM*472, CAS, LQ*HE.

    ``procedure_code`` with up to 4 ``modifiers`` is SVC01 (``procedure_qualifier`` "HC": HCPCS/CPT), as
    adjudicated; ``charge`` SVC02 and ``paid`` SVC03 in dollars; ``units`` SVC05 (paid units);
    ``service_date`` DTM*472; ``adjustments`` the line's CAS triplets; ``remark_codes`` the RARCs written as
    LQ*HE, one segment each (e.g. "N130").
    """

    procedure_code: str
    charge: Decimal
    paid: Decimal
    units: Decimal
    service_date: dt.date
    adjustments: tuple[Adjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()
    procedure_qualifier: str = "HC"


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """One claim, loop 2100: CLP, claim-level CAS, NM1*QC, optional NM1*IL, then its 2110 lines.

    CLP01 ``patient_control_number`` is the claim number as the provider sent it in the 837P CLM01;
    CLP02 ``status_code`` ("1" processed as primary, "2" as secondary, "4" denied, ...; see
    ``CLAIM_STATUS_CODES``); CLP03 ``total_charge``, CLP04 ``paid``, CLP05 ``patient_responsibility``
    (dollars); CLP06 ``claim_filing_code`` (``CLAIM_FILING_CODES``); CLP07 ``payer_claim_control_number``;
    CLP08 ``facility_code`` (professional claims: the place of service, "11"); CLP09 ``frequency_code``.

    ``reversal=True`` writes this payment back out as a reversal (CLP02 = 22) with CLP03/CLP04/CLP05, SVC02/
    SVC03 and every CAS amount negated (IG 1.10.2.8): pass the values as originally sent, with the original
    CLP07. Raises ``ValueError`` for status "22" itself, so there is one way to say "reversal".
    """

    patient_control_number: str
    status_code: str
    total_charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    claim_filing_code: str
    payer_claim_control_number: str
    facility_code: str
    patient: RemitPerson
    lines: tuple[ServicePayment, ...]
    adjustments: tuple[Adjustment, ...] = ()
    insured: RemitPerson | None = None
    frequency_code: str = "1"
    reversal: bool = False

    def __post_init__(self) -> None:
        if self.status_code == REVERSAL_STATUS:
            raise ValueError(
                f"claim CLP07 {self.payer_claim_control_number!r}: write a reversal as the original payment with "
                "reversal=True, not status_code '22'"
            )

    @property
    def written_status(self) -> str:
        """CLP02 as written: "22" for a reversal, else ``status_code``."""
        return REVERSAL_STATUS if self.reversal else self.status_code

    @property
    def sign(self) -> int:
        """-1 for a reversal (its money amounts are written negated), else 1."""
        return -1 if self.reversal else 1


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One provider-level adjustment, PLB (after the last 2000 loop).

    ``provider_id`` is PLB01 (the payee's NPI as in 1000B N104), ``fiscal_period_date`` PLB02 (the last day
    of the provider's fiscal year, CCYYMMDD), ``reason_code`` PLB03-1 ("WO" overpayment recovery, "L6"
    interest owed, "FB" forwarding balance, ...), ``reference_id`` PLB03-2 (e.g. the claim number a
    recovery refers to; "" omits it), ``amount`` PLB04 in dollars: positive is withheld from the payee,
    negative paid to it (IG PLB04: "a positive amount reduces the payment").
    """

    provider_id: str
    fiscal_period_date: dt.date
    reason_code: str
    amount: Decimal
    reference_id: str = ""


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set: one payer paying one payee in one payment cycle.

    Header: ``payment`` (BPR), ``trace_number`` (TRN02: the check number, or the EFT trace number; for a
    "NON" payment a unique number of the payer's), ``production_date`` (DTM*405, the adjudication cycle's
    end), ``receiver_identifier`` (REF*EV, "" omits it). Loops 1000A ``payer`` and 1000B ``payee``; loop
    2000 (LX*1) holds ``claims`` (2100/2110), which may be empty when only ``provider_adjustments`` (PLB)
    are reported.

    Balance (checked by ``writer835.balance_problems`` before anything is written): BPR02 = sum of CLP04 -
    sum of PLB04.
    """

    payer: RemitPayer
    payee: RemitPayee
    payment: RemitPayment
    trace_number: str
    production_date: dt.date
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    receiver_identifier: str = ""
