"""Write 835 (ASC X12 005010X221A1, Health Care Claim Payment/Advice) files from ``claims.x12.model835``.

Layout (implementation guide, "IG", section 2.4 segment usage), one transaction set per remittance:

    ISA GS*HP ST*835
      BPR TRN [REF*EV] DTM*405                      header (CUR omitted: US dollars)
      1000A N1*PR N3 N4 REF*2U PER*BL               payer; PER*BL (technical contact) is required
      1000B N1*PE (XX NPI) N3 N4 REF*TJ             payee
      2000 LX*1                                     one header number for all claims
        2100 CLP [CAS...] NM1*QC [NM1*IL]           claim payment (NM1*82 omitted)
          2110 SVC DTM*472 [CAS...] [LQ*HE...]      service payment
      [PLB...]                                      provider-level adjustments
    SE GE IEA

Delimiters as for the 837P writer: element ``*``, component ``:``, repetition ``^``, segment ``~`` followed by a
newline; money in dollars with no trailing zeros (X12 ``R``), dates ``CCYYMMDD``.

Decisions where the brief and the IG differ, or the IG leaves a choice:

* **No ST03.** The 005010X221A1 IG marks ST03 (implementation convention reference) "Not Used", unlike the
  837P guide: the version is carried by GS08 only. pyx12 4.0's 835 map says the same (it reports ST03 as
  "marked as Not Used") and so do the Stedi/stupidedi X221A1 definition and every shared 835 sample.
* **BPR.** BPR02 must be zero or positive and at most 10 digits (IG BPR02); a payee owing money is carried
  forward with a PLB "FB" adjustment instead. A zero payment is BPR01 "H" (notification only) with BPR04
  "NON"; a check is BPR01 "I" (remittance information only; the check travels separately); an ACH payment
  is BPR01 "C" (payment accompanies remittance advice) with the CCP/CTX bank fields and BPR10 = TRN03.
* **Reversals** (CLP02 = 22, IG section 1.10.2.8): CLP03, CLP04, CLP05, SVC02, SVC03 and every CAS amount are
  negated; units (SVC05) and CAS quantities are written as originally sent. Put the reversal before its
  correction, in the same 835 (X12 RFI 791).
* **CLP05** is written only when not zero (IG: required when the patient responsibility is greater than
  zero) and must equal the claim's PR adjustments (IG CLP05: "must have supporting adjustments ... with a
  CAS01 of PR"); ``balance_problems`` checks it with the three balancing rules.
* **SVC05** (paid units) is always written; the IG requires it only when not 1 and allows it otherwise.

``balance_problems`` (the IG's section 1.10.2.1 balancing) and ``format_problems`` run before anything is
written; the writer raises ``ValueError`` listing all of them. Messages name a claim by its position in the
transaction and its payer claim control number (``claims[2] (CLP07 1042)``, the platform's claim id), never by
the patient control number (CLP01: often the patient's account number, an identifier under 45 CFR
164.514(b)(2)(i)(J)) nor by patient names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from claims.x12.model835 import (
    ADJUSTMENT_GROUPS,
    CLAIM_FILING_CODES,
    CLAIM_STATUS_CODES,
    PAYMENT_METHODS,
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    RemitAddress,
    RemitPerson,
    Remittance,
)
from claims.x12.writer import COMPONENT, ELEMENT, REPETITION, TERMINATOR, envelope_header, money

VERSION = "005010X221A1"
# CAS: up to six (reason, amount, quantity) triplets per segment (CAS02..CAS19); PLB: up to six (reason,
# amount) pairs per segment (PLB03..PLB14).
CAS_TRIPLETS_PER_SEGMENT = 6
PLB_ADJUSTMENTS_PER_SEGMENT = 6
_CENT = Decimal("0.01")
_BPR02_MAX_DIGITS = 10  # IG BPR02 restricts data element 782 (R 1/18) to 10 digits
_AMOUNT_MAX_DIGITS = 18  # data element 782 elsewhere
_DELIMITERS = frozenset(ELEMENT + COMPONENT + REPETITION + "~")


def _dollars(value: Decimal) -> str:
    """An amount as written: X12 ``R`` with no trailing zeros, and never "-0"."""
    return money(value + 0)  # + 0 turns a negative zero (a reversed 0.00) into 0


def _d8(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _seg(*elements: str) -> str:
    """One segment with trailing empty elements dropped (X12.6: no trailing element separators)."""
    items = list(elements)
    while items and items[-1] == "":
        items.pop()
    return ELEMENT.join(items) + TERMINATOR


def _signed(value: Decimal, reversal: bool) -> Decimal:
    # Unary minus, not multiplication by -1: -1 * Decimal("0.00") is a negative zero.
    return -value if reversal else value


def _claim_label(index: int, claim: ClaimPayment) -> str:
    """``claims[index] (CLP07 ...)``: position and payer claim control number, no patient identifier."""
    number = f" (CLP07 {claim.payer_claim_control_number})" if claim.payer_claim_control_number else ""
    return f"claims[{index}]{number}" + (" (reversal)" if claim.reversal else "")


# --- checks ---------------------------------------------------------------------------------------------


def balance_problems(remittance: Remittance) -> list[str]:
    """The balancing errors of ``remittance``, as sentences; [] when it balances. Pure.

    All amounts are compared as written, i.e. negated for reversals (which does not change whether they
    balance). Rules (IG section 1.10.2.1, balancing):

    * each service line (2110): SVC02 - SVC03 = the sum of the line's CAS amounts;
    * each claim (2100): CLP03 - CLP04 = the sum of all its CAS amounts, claim level and all its lines';
    * each claim: CLP05 = the sum of its PR (patient responsibility) CAS amounts (IG 2100 CLP05 note);
    * the transaction: BPR02 = sum of CLP04 - sum of PLB04 (PLB amounts reduce the payment).

    Claims are named by position and CLP07 (module docstring); lines by position (1-based) and procedure code.
    """
    problems: list[str] = []
    total_paid = Decimal("0")
    for index, claim in enumerate(remittance.claims):
        rev = claim.reversal
        label = _claim_label(index, claim)
        line_adjustments = Decimal("0")
        for number, line in enumerate(claim.lines, start=1):
            expected = _signed(line.charge - line.paid, rev)
            line_cas = _signed(sum((a.amount for a in line.adjustments), Decimal("0")), rev)
            line_adjustments += line_cas
            if expected != line_cas:
                problems.append(
                    f"{label} line {number} ({line.procedure_code}): SVC02 - SVC03 = {expected} "
                    f"but the line's CAS amounts sum to {line_cas}"
                )
        claim_cas = _signed(sum((a.amount for a in claim.adjustments), Decimal("0")), rev)
        expected = _signed(claim.total_charge - claim.paid, rev)
        if expected != claim_cas + line_adjustments:
            problems.append(
                f"{label}: CLP03 - CLP04 = {expected} but its CAS amounts (claim level {claim_cas}, "
                f"service lines {line_adjustments}) sum to {claim_cas + line_adjustments}"
            )
        patient_share = _signed(
            sum(
                (a.amount for a in _all_adjustments(claim) if a.group_code == "PR"),
                Decimal("0"),
            ),
            rev,
        )
        written_pr = _signed(claim.patient_responsibility, rev)
        if written_pr != patient_share:
            problems.append(f"{label}: CLP05 = {written_pr} but its PR adjustments sum to {patient_share}")
        total_paid += _signed(claim.paid, rev)
    withheld = sum((a.amount for a in remittance.provider_adjustments), Decimal("0"))
    if remittance.payment.amount != total_paid - withheld:
        problems.append(
            f"BPR02 = {remittance.payment.amount} but the sum of CLP04 ({total_paid}) - the sum of PLB04 "
            f"({withheld}) = {total_paid - withheld}"
        )
    return problems


def _all_adjustments(claim: ClaimPayment) -> Iterator[Adjustment]:
    yield from claim.adjustments
    for line in claim.lines:
        yield from line.adjustments


def _text_fields(value: object, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, text) for every string inside a model value, for the delimiter check."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _text_fields(item, f"{path}[{i}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _text_fields(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)


def _is_digits(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isdigit()


def _amount_problem(what: str, value: Decimal, max_digits: int = _AMOUNT_MAX_DIGITS) -> str | None:
    if not value.is_finite() or value != value.quantize(_CENT):
        return f"{what} = {value} is not a whole number of cents"
    if len(value.quantize(_CENT).as_tuple().digits) > max_digits:
        return f"{what} = {value} has more than {max_digits} digits"
    return None


def format_problems(remittance: Remittance) -> list[str]:
    """Values of ``remittance`` that cannot be written as a valid 005010X221A1 transaction; [] when none.
    Pure. Checks identifiers (NPI 10 digits, tax ids 9 digits, routing numbers 9 digits), code lists
    (``model835`` constants), money in whole cents, BPR02 zero or positive and at most 10 digits with BPR04
    "NON" exactly when it is zero, the ACH bank fields, and that no text holds a delimiter (``* : ^ ~``)
    or a non-ASCII character. Claims are named by position and CLP07, never by CLP01 or patient name.
    """
    problems: list[str] = []
    payer, payee = remittance.payer, remittance.payee
    for path, text in _text_fields(remittance, ""):
        if not text.isascii() or any(ch in _DELIMITERS for ch in text):
            # The path, not the value: the value may be a patient's name.
            problems.append(f"{path} contains a delimiter (* : ^ ~) or a non-ASCII character")
    if not _is_digits(payee.npi, 10):
        problems.append(f"payee NPI {payee.npi!r} is not 10 digits (1000B N104, qualifier XX)")
    if not _is_digits(payee.tax_id, 9):
        problems.append("payee tax id is not 9 digits (1000B REF*TJ)")
    if not _is_digits(payer.tax_id, 9):
        problems.append("payer tax id is not 9 digits (TRN03 is '1' + the payer's EIN)")
    if not _is_digits(payer.contact_phone, 10):
        problems.append("payer contact phone is not 10 digits (1000A PER*BL TE)")
    if not payer.payer_id or not remittance.trace_number:
        problems.append("payer id (1000A REF*2U) and trace number (TRN02) must not be empty")
    problems += _payment_problems(remittance)
    for index, claim in enumerate(remittance.claims):
        problems += _claim_problems(index, claim)
    for n, adj in enumerate(remittance.provider_adjustments, start=1):
        if not adj.provider_id or not adj.reason_code:
            problems.append(f"PLB adjustment {n}: provider id (PLB01) and reason code (PLB03-1) are required")
        problem = _amount_problem(f"PLB adjustment {n} amount", adj.amount)
        if problem:
            problems.append(problem)
    return problems


def _payment_problems(remittance: Remittance) -> list[str]:
    payment = remittance.payment
    problems: list[str] = []
    problem = _amount_problem("BPR02", payment.amount, _BPR02_MAX_DIGITS)
    if problem:
        problems.append(problem)
    if payment.amount < 0:
        problems.append(
            f"BPR02 = {payment.amount} is negative: the IG requires zero or more; carry the balance "
            "forward with a PLB 'FB' adjustment"
        )
    if payment.method not in PAYMENT_METHODS:
        problems.append(f"payment method {payment.method!r} is not one of {sorted(PAYMENT_METHODS)}")
    elif (payment.method == "NON") != (payment.amount == 0):
        problems.append(
            f"payment method {payment.method} with BPR02 = {payment.amount}: "
            "BPR04 is NON exactly when there is no payment (BPR02 = 0)"
        )
    if payment.method == "ACH":
        if not (_is_digits(payment.sender_dfi_id, 9) and _is_digits(payment.receiver_dfi_id, 9)):
            problems.append(
                "ACH payment: sender and receiver DFI ids (BPR07, BPR13) must be 9-digit routing numbers"
            )
        if not (payment.sender_account and payment.receiver_account):
            problems.append("ACH payment: sender and receiver account numbers (BPR09, BPR15) are required")
        if payment.receiver_account_type not in ("DA", "SG"):
            problems.append("ACH payment: receiver account type (BPR14) must be DA or SG")
        if payment.payment_format not in ("CCP", "CTX"):
            problems.append("ACH payment: payment format (BPR05) must be CCP or CTX")
    return problems


def _claim_problems(index: int, claim: ClaimPayment) -> list[str]:
    label = _claim_label(index, claim)
    problems: list[str] = []
    if not 1 <= len(claim.patient_control_number) <= 38:
        problems.append(f"{label}: patient control number (CLP01) must be 1 to 38 characters")
    if claim.status_code not in CLAIM_STATUS_CODES:
        problems.append(f"{label}: claim status {claim.status_code!r} (CLP02) is not in the IG's list")
    if claim.claim_filing_code not in CLAIM_FILING_CODES:
        problems.append(
            f"{label}: claim filing indicator {claim.claim_filing_code!r} (CLP06) is not in the 835's list "
            "(the 837P's CI and BL are not allowed in an 835)"
        )
    if not 1 <= len(claim.payer_claim_control_number) <= 50:
        problems.append(f"{label}: payer claim control number (CLP07) must be 1 to 50 characters")
    if not 1 <= len(claim.facility_code) <= 2:
        problems.append(f"{label}: facility code / place of service (CLP08) must be 1 or 2 characters")
    if claim.insured is not None and not claim.insured.member_id:
        problems.append(f"{label}: the insured (NM1*IL) needs a member id")
    amounts = [
        ("CLP03", claim.total_charge),
        ("CLP04", claim.paid),
        ("CLP05", claim.patient_responsibility),
    ]
    amounts += [(f"claim CAS {a.group_code}-{a.reason_code}", a.amount) for a in claim.adjustments]
    for number, line in enumerate(claim.lines, start=1):
        amounts += [(f"line {number} SVC02", line.charge), (f"line {number} SVC03", line.paid)]
        amounts += [(f"line {number} CAS {a.group_code}-{a.reason_code}", a.amount) for a in line.adjustments]
        if len(line.modifiers) > 4:
            problems.append(f"{label} line {number}: at most 4 procedure modifiers (SVC01-3..6)")
        if not line.procedure_code:
            problems.append(f"{label} line {number}: procedure code (SVC01-2) is required")
    for adj in _all_adjustments(claim):
        if adj.group_code not in ADJUSTMENT_GROUPS:
            problems.append(f"{label}: adjustment group {adj.group_code!r} (CAS01) is not CO, OA, PI or PR")
        if not adj.reason_code:
            problems.append(f"{label}: an adjustment has no reason code (CAS02)")
    for what, value in amounts:
        problem = _amount_problem(what, value)
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


# --- segments -------------------------------------------------------------------------------------------


def _address(address: RemitAddress) -> list[str]:
    return [
        _seg("N3", address.line1, address.line2),
        _seg("N4", address.city, address.state_code, address.zip_code),
    ]


def _header(remittance: Remittance) -> list[str]:
    """BPR, TRN, REF*EV, DTM*405 and loops 1000A/1000B."""
    payer, payee, payment = remittance.payer, remittance.payee, remittance.payment
    bpr: dict[int, str] = {2: _dollars(payment.amount), 3: "C", 4: payment.method, 16: _d8(payment.date)}
    if payment.method == "NON":
        bpr[1] = "H"  # notification only: no payment
    elif payment.method == "CHK":
        bpr[1] = "I"  # remittance information only; the check is mailed separately
    else:
        bpr.update(
            {
                1: "C",  # payment accompanies remittance advice
                5: payment.payment_format,
                6: "01",  # ABA transit routing number
                7: payment.sender_dfi_id,
                8: "DA",
                9: payment.sender_account,
                10: payer.originating_company_id,  # IG: must be identical to TRN03
                12: "01",
                13: payment.receiver_dfi_id,
                14: payment.receiver_account_type,
                15: payment.receiver_account,
            }
        )
    out = [
        _seg("BPR", *(bpr.get(i, "") for i in range(1, 17))),
        # TRN01 1: current transaction trace numbers.
        _seg("TRN", "1", remittance.trace_number, payer.originating_company_id),
    ]
    if remittance.receiver_identifier:
        out.append(_seg("REF", "EV", remittance.receiver_identifier))
    out.append(_seg("DTM", "405", _d8(remittance.production_date)))
    contact = ["PER", "BL", payer.contact_name, "TE", payer.contact_phone]
    if payer.contact_email:
        contact += ["EM", payer.contact_email]
    out += [
        _seg("N1", "PR", payer.name),
        *_address(payer.address),
        _seg("REF", "2U", payer.payer_id),
        _seg(*contact),
        _seg("N1", "PE", payee.name, "XX", payee.npi),
        *_address(payee.address),
        _seg("REF", "TJ", payee.tax_id),
    ]
    return out


def _chunks(items: Sequence[Adjustment], size: int) -> Iterator[Sequence[Adjustment]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _cas(adjustments: Iterable[Adjustment], reversal: bool) -> list[str]:
    """CAS segments: one per group code (in order of first appearance), a further one with the same group
    code for every six more reasons (IG 2100/2110 CAS)."""
    by_group: dict[str, list[Adjustment]] = {}
    for adj in adjustments:
        by_group.setdefault(adj.group_code, []).append(adj)
    out = []
    for group, items in by_group.items():
        for chunk in _chunks(items, CAS_TRIPLETS_PER_SEGMENT):
            elements = ["CAS", group]
            for adj in chunk:
                quantity = money(adj.quantity) if adj.quantity is not None else ""
                elements += [adj.reason_code, _dollars(_signed(adj.amount, reversal)), quantity]
            out.append(_seg(*elements))
    return out


def _person(qualifier: str, person: RemitPerson) -> str:
    if person.member_id:
        return _seg(
            "NM1", qualifier, "1", person.last_name, person.first_name, "", "", "", "MI", person.member_id
        )
    return _seg("NM1", qualifier, "1", person.last_name, person.first_name)


def _claim(claim: ClaimPayment) -> list[str]:
    """Loop 2100 with its 2110 loops."""
    rev = claim.reversal
    patient_share = _signed(claim.patient_responsibility, rev)
    out = [
        _seg(
            "CLP",
            claim.patient_control_number,
            claim.written_status,
            _dollars(_signed(claim.total_charge, rev)),
            _dollars(_signed(claim.paid, rev)),
            _dollars(patient_share) if patient_share != 0 else "",
            claim.claim_filing_code,
            claim.payer_claim_control_number,
            claim.facility_code,
            claim.frequency_code,
        ),
        *_cas(claim.adjustments, rev),
        _person("QC", claim.patient),
    ]
    if claim.insured is not None:
        out.append(_person("IL", claim.insured))
    for line in claim.lines:
        procedure = COMPONENT.join((line.procedure_qualifier, line.procedure_code, *line.modifiers))
        out += [
            _seg(
                "SVC",
                procedure,
                _dollars(_signed(line.charge, rev)),
                _dollars(_signed(line.paid, rev)),
                "",  # SVC04 NUBC revenue code: institutional only
                money(line.units),
            ),
            _seg("DTM", "472", _d8(line.service_date)),
            *_cas(line.adjustments, rev),
            *(_seg("LQ", "HE", code) for code in line.remark_codes),
        ]
    return out


def _plb(adjustments: Sequence[ProviderAdjustment]) -> list[str]:
    """PLB segments: one per (provider id, fiscal period date) in order of first appearance, a further
    one for every six more adjustments (PLB03..PLB14)."""
    by_key: dict[tuple[str, dt.date], list[ProviderAdjustment]] = {}
    for adj in adjustments:
        by_key.setdefault((adj.provider_id, adj.fiscal_period_date), []).append(adj)
    out = []
    for (provider_id, fiscal_date), items in by_key.items():
        for start in range(0, len(items), PLB_ADJUSTMENTS_PER_SEGMENT):
            elements = ["PLB", provider_id, _d8(fiscal_date)]
            for adj in items[start : start + PLB_ADJUSTMENTS_PER_SEGMENT]:
                reason = (
                    COMPONENT.join((adj.reason_code, adj.reference_id))
                    if adj.reference_id
                    else adj.reason_code
                )
                elements += [reason, _dollars(adj.amount)]
            out.append(_seg(*elements))
    return out


def transaction_segments(remittance: Remittance, control_number: int) -> list[str]:
    """The ST..SE segments (each ending ``~`` and a newline) of one remittance; SE01 counts ST to SE.

    Raises ``ValueError`` listing ``format_problems`` and ``balance_problems`` when there are any.
    """
    problems = format_problems(remittance) + balance_problems(remittance)
    if problems:
        raise ValueError(
            f"835 for payee NPI {remittance.payee.npi} does not balance or cannot be written: "
            + "; ".join(problems)
        )
    control = f"{control_number:04d}"
    # No ST03: the 005010X221A1 IG marks it Not Used (module docstring).
    segments = [_seg("ST", "835", control), *_header(remittance)]
    if remittance.claims:
        segments.append(_seg("LX", "1"))
        for claim in remittance.claims:
            segments += _claim(claim)
    segments += _plb(remittance.provider_adjustments)
    segments.append(_seg("SE", str(len(segments) + 1), control))
    return segments


def write_835_interchange(
    remittances: Sequence[Remittance],
    *,
    interchange_control_number: int,
    sender_id: str,
    receiver_id: str,
    created: dt.datetime,
    usage_indicator: str = "T",
) -> str:
    """One interchange (ISA, one GS*HP, IEA) holding one 835 transaction set per remittance, in order.

    ``sender_id``/``receiver_id``: ISA06/ISA08 (qualifier ZZ) and GS02/GS03, 2 to 15 characters (the payer's
    and the payee's or its clearinghouse's interchange ids). ``interchange_control_number``: ISA13
    (1..999,999,999) and GS06; ST02 counts 0001, 0002, ... ``created``: ISA09/ISA10 and GS04/GS05.
    ``usage_indicator``: ISA15, "T" test or "P" production.

    Raises ``ValueError`` for out-of-range envelope values, no remittances, or a remittance that does not
    balance or cannot be written (``balance_problems``, ``format_problems``; the message names the payee's
    NPI and each claim's patient control number).
    """
    if not remittances:
        raise ValueError("an 835 interchange needs at least one remittance")
    header = envelope_header(
        functional_id="HP",
        version=VERSION,
        sender_id=sender_id,
        receiver_id=receiver_id,
        created=created,
        control_number=interchange_control_number,
        usage_indicator=usage_indicator,
    )
    transactions = [transaction_segments(r, n) for n, r in enumerate(remittances, start=1)]
    parts = [header]
    for segments in transactions:
        parts += segments
    parts.append(_seg("GE", str(len(transactions)), str(interchange_control_number)))
    parts.append(_seg("IEA", "1", f"{interchange_control_number:09d}"))
    return "".join(parts)


def write_835(
    remittance: Remittance,
    *,
    interchange_control_number: int,
    sender_id: str,
    receiver_id: str,
    created: dt.datetime,
    usage_indicator: str = "T",
) -> str:
    """The 835 text of one remittance: an interchange with one transaction set. Arguments and errors as
    for ``write_835_interchange``."""
    return write_835_interchange(
        [remittance],
        interchange_control_number=interchange_control_number,
        sender_id=sender_id,
        receiver_id=receiver_id,
        created=created,
        usage_indicator=usage_indicator,
    )
