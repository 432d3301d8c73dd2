"""The decision of one claim, from plain facts: pure, no database (``claims.services.adjudication`` feeds it).

Order of the edits (``claims.adjudication.edits`` has their codes):

0. Relations to earlier claims, found at ingest (``claims.ingest_rules``): an exact duplicate is denied CO-18
   on every line; a void (CLM05-3 = 8) is voided and its original voided with it; a replacement (7) ends its
   original ("replaced") and is decided in its place by the edits below. A replacement or void whose original
   is missing or already replaced or voided is pended for an examiner (005010X222A1 2300 CLM05-3; NUBC claim
   frequency codes). Ending the original is the service's write (``claims.services.adjudication``).
1. Eligibility: no enrollment on file at all -> pended "eligibility not on file" (claims from real files create
   their members from the file; an examiner adds the enrollment and re-adjudicates). Otherwise each line's date
   of service must fall in an enrollment of the claim's plan: before the first one CO-26, else CO-27.
2. Timely filing: received more than the plan's filing limit (days) after the first date of service -> the claim
   is denied CO-29. A total charge (CLM02) that is not the sum of the lines' charges -> CO-16 with RARC M54
   (the difference is a claim-level adjustment, so the remittance still balances).
3. Code validity: a diagnosis that is not a billable ICD-10-CM code on the date of service (or none, or ICD-9-CM
   after 2015-10-01, or a pointer past the codes) -> CO-16 with RARC M76; the billing NPI failing its check
   digit -> CO-16 with N257 (both from the code checks ingest stored). A procedure code that is not HCPCS/CPT
   shaped (five characters: five digits, four digits and a letter, or a letter and four digits) -> the line is
   denied CO-181 (M51); a modifier that is not two letters or digits -> CO-182 (N519).
4. Network: a billing provider outside the plan's network is denied CO-242 under an HMO or EPO, and priced at the
   out-of-network rate under any other plan type.
5. Pend for review: an unlisted procedure code, a total charge above the plan's review threshold, modifier 22.
6. Pricing of the lines still payable (``claims.adjudication.pricing``).

A claim every line of which is denied is denied (its CARC is the first denial's); a claim with at least one
payable line is approved, its denied lines carrying their own CO adjustment of the whole line charge.
Per line and per claim, charge = paid + all adjustments, as Decimal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from claims.adjudication.edits import EDITS, UNLISTED_CODES, Edit
from claims.adjudication.pricing import ZERO, Adjustment, CostShare, fee_schedule_amount, price_line
from claims.codes import CodeCheckKind
from claims.lifecycle import ClaimStatus
from claims.models import ClaimRelation, FrequencyCode
from members.models import PlanType

_HCPCS = re.compile(r"\d{5}|\d{4}[A-Z]|[A-Z]\d{4}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_CLOSED_NETWORK = frozenset({PlanType.HMO, PlanType.EPO})
_ENDS = frozenset({ClaimRelation.REPLACES, ClaimRelation.VOIDS})
_DIAGNOSIS_KINDS = frozenset(
    {
        CodeCheckKind.ICD10_INVALID,
        CodeCheckKind.ICD10_NOT_BILLABLE,
        CodeCheckKind.NO_DIAGNOSIS,
        CodeCheckKind.ICD9_AFTER_ICD10,
        CodeCheckKind.DIAGNOSIS_POINTER,
    }
)


@dataclass(frozen=True)
class Benefits:
    """A plan's adjudication terms: money in dollars, rates as fractions (0.20 = 20 %)."""

    plan_type: str
    filing_limit_days: int
    conversion_factor: Decimal
    deductible: Decimal
    coinsurance_rate: Decimal
    copay: Decimal
    review_threshold: Decimal
    out_of_network_rate: Decimal


@dataclass(frozen=True)
class LineFacts:
    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: dt.date
    place_of_service: str


@dataclass(frozen=True)
class ClaimFacts:
    """What the engine needs of one claim. ``coverage`` are the (effective, termination or None) spans of the
    member's enrollments in the claim's plan; ``enrolled_anywhere`` whether the member has any enrollment."""

    claim_id: int
    received_on: dt.date
    service_date_from: dt.date
    total_charge: Decimal
    code_problems: tuple[str, ...]
    coverage: tuple[tuple[dt.date, dt.date | None], ...]
    enrolled_anywhere: bool
    in_network: bool
    lines: tuple[LineFacts, ...]
    # CLM05-3 and the link ingest made (claims.models.ClaimRelation): duplicate_of / replaces / voids, or "".
    frequency_code: str = FrequencyCode.ORIGINAL
    relation: str = ""
    # For a replacement or void: whether its original can still be ended (not replaced or voided already).
    original_open: bool = False


@dataclass
class LineDecision:
    line_number: int
    status: str  # approved / denied
    allowed: Decimal
    paid: Decimal
    adjustments: list[Adjustment] = field(default_factory=list)


@dataclass
class ClaimDecision:
    """The outcome: status, the claim's CARC when denied, the pend reason when pended, per-line decisions, which
    edits fired, and the deductible it used (dollars) for the member's accumulator."""

    status: str
    carc: str = ""
    pend_reason: str = ""
    lines: list[LineDecision] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    deductible_applied: Decimal = ZERO
    # Claim-level CAS (835 2100 CAS; ``ClaimAdjustment.line_number`` 0), e.g. a total that is not its lines' sum.
    adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def allowed(self) -> Decimal:
        return sum((line.allowed for line in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for line in self.lines for a in line.adjustments if a.group == "PR"), ZERO)


def denied_in_full(lines: Sequence[LineFacts], total_charge: Decimal, edit: Edit) -> ClaimDecision:
    """A whole claim denied by ``edit``: each line's charge adjusted with the edit's group and CARC, and any
    difference between the claim total (CLM02) and its lines' sum as a claim-level adjustment, so that
    charge = paid + adjustments holds for the claim as sent. Used by the engine and by ingest (CARC 18)."""
    decision = ClaimDecision(
        ClaimStatus.DENIED,
        carc=edit.carc,
        lines=[_denied_line(line, edit) for line in lines],
        edits=[edit.id],
    )
    rest = total_charge - sum((line.charge for line in lines), ZERO)
    if rest:
        decision.adjustments.append(Adjustment(edit.group, edit.carc, rest, edit.rarc))
    return decision


def _covered(day: dt.date, coverage: Sequence[tuple[dt.date, dt.date | None]]) -> bool:
    # A plain loop: any() over a generator cost a third of the engine's time (cProfile, 112k lines).
    for start, end in coverage:
        if start <= day and (end is None or day <= end):
            return True
    return False


def _line_edit(line: LineFacts, claim: ClaimFacts) -> Edit | None:
    """The first edit that denies ``line`` on its own, or None."""
    if not _covered(line.service_date, claim.coverage):
        starts = [start for start, _ in claim.coverage]
        return (
            EDITS["before_coverage"]
            if not starts or line.service_date < min(starts)
            else EDITS["after_coverage"]
        )
    if not _HCPCS.fullmatch(line.procedure_code):
        return EDITS["procedure_invalid"]
    if any(not _MODIFIER.fullmatch(m) for m in line.modifiers):
        return EDITS["modifier_invalid"]
    return None


def _claim_edit(claim: ClaimFacts, benefits: Benefits) -> Edit | None:
    """The first edit that denies the whole claim, or None."""
    if (claim.received_on - claim.service_date_from).days > benefits.filing_limit_days:
        return EDITS["timely_filing"]
    if claim.total_charge != sum((line.charge for line in claim.lines), ZERO):
        return EDITS["charge_mismatch"]
    kinds = {CodeCheckKind.of(problem) for problem in claim.code_problems}
    if kinds & _DIAGNOSIS_KINDS:
        return EDITS["diagnosis_invalid"]
    if CodeCheckKind.BILLING_NPI_CHECK_DIGIT in kinds:
        return EDITS["billing_npi_invalid"]
    if not claim.in_network and benefits.plan_type in _CLOSED_NETWORK:
        return EDITS["out_of_network_denied"]
    return None


def _pend_edit(claim: ClaimFacts, benefits: Benefits) -> Edit | None:
    if any(line.procedure_code in UNLISTED_CODES for line in claim.lines):
        return EDITS["unlisted_procedure"]
    if claim.total_charge > benefits.review_threshold:
        return EDITS["high_charge"]
    if any("22" in line.modifiers for line in claim.lines):
        return EDITS["modifier_22"]
    return None


def _relation_decision(claim: ClaimFacts) -> ClaimDecision | None:
    """The decision that a claim's relation to an earlier one makes on its own, or None (decide it as usual)."""
    if claim.relation == ClaimRelation.DUPLICATE_OF:
        return denied_in_full(claim.lines, claim.total_charge, EDITS["exact_duplicate"])
    ends_another = claim.frequency_code in (FrequencyCode.REPLACEMENT, FrequencyCode.VOID)
    if ends_another and not (claim.relation in _ENDS and claim.original_open):
        edit = EDITS["original_not_open"]
        return ClaimDecision(ClaimStatus.PENDED, pend_reason=edit.pend_reason, edits=[edit.id])
    if claim.relation == ClaimRelation.VOIDS:
        return ClaimDecision(ClaimStatus.VOIDED, edits=[EDITS["void"].id])
    return None


def _denied_line(line: LineFacts, edit: Edit) -> LineDecision:
    adjustment = Adjustment(edit.group, edit.carc, line.charge, edit.rarc)
    return LineDecision(line.line_number, ClaimStatus.DENIED, ZERO, ZERO, [adjustment])


def decide(
    claim: ClaimFacts, benefits: Benefits, *, deductible_left: Decimal, reviewed: bool = False
) -> ClaimDecision:
    """Decide ``claim`` under ``benefits`` with ``deductible_left`` dollars of the member's plan-year deductible
    still open. Pure. Returns approved / denied (with per-line decisions) or pended (no lines priced).

    ``reviewed``: an examiner has looked at the claim (approved it from the work queue, or a supervisor turned
    its denial over), so the review pends (step 5) are skipped and the claim is priced. Eligibility not on file
    still pends: no review prices a claim for a member with no enrollment at all.
    """
    relation = _relation_decision(claim)
    if relation is not None:
        return relation
    if not claim.enrolled_anywhere:
        edit = EDITS["eligibility_not_on_file"]
        return ClaimDecision(ClaimStatus.PENDED, pend_reason=edit.pend_reason, edits=[edit.id])
    claim_edit = _claim_edit(claim, benefits)
    if claim_edit is not None:
        return denied_in_full(claim.lines, claim.total_charge, claim_edit)
    pend = None if reviewed else _pend_edit(claim, benefits)
    if pend is not None:
        return ClaimDecision(ClaimStatus.PENDED, pend_reason=pend.pend_reason, edits=[pend.id])
    edits: list[str] = [] if claim.in_network else [EDITS["out_of_network_priced"].id]
    if claim.relation == ClaimRelation.REPLACES:
        edits.insert(0, EDITS["replacement"].id)
    share = CostShare(copay_left=benefits.copay, deductible_left=deductible_left)
    lines: list[LineDecision] = []
    for line in claim.lines:
        line_edit = _line_edit(line, claim)
        if line_edit is not None:
            edits.append(line_edit.id)
            lines.append(_denied_line(line, line_edit))
            continue
        schedule = fee_schedule_amount(
            procedure_code=line.procedure_code,
            units=line.units,
            place_of_service=line.place_of_service,
            conversion_factor=benefits.conversion_factor,
        )
        priced = price_line(
            charge=line.charge,
            schedule=schedule,
            in_network=claim.in_network,
            out_of_network_rate=benefits.out_of_network_rate,
            coinsurance_rate=benefits.coinsurance_rate,
            share=share,
        )
        lines.append(
            LineDecision(
                line.line_number, ClaimStatus.APPROVED, priced.allowed, priced.paid, priced.adjustments
            )
        )
    denied = [line for line in lines if line.status == ClaimStatus.DENIED]
    if len(denied) == len(lines):
        return ClaimDecision(
            ClaimStatus.DENIED,
            carc=denied[0].adjustments[0].carc,
            lines=lines,
            edits=list(dict.fromkeys(edits)),
        )
    return ClaimDecision(
        ClaimStatus.APPROVED,
        lines=lines,
        edits=list(dict.fromkeys(edits)),
        deductible_applied=share.deductible_applied,
    )
