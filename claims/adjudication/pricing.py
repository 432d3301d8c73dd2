"""Pricing of an approved service line: the allowed amount, and the member's share of it.

* Allowed = the lesser of the charge and the fee schedule amount: the line's total RVUs (``claims.fee_schedule``,
  CMS Medicare Physician Fee Schedule non-facility RVUs) x the plan's conversion factor (dollars per RVU), x 0.80
  in a facility (place of service 21, 22, 23: the facility RVUs are lower; this table carries the non-facility
  ones only). A code paid outside the PFS (laboratory, drugs; no RVU here) is allowed at its charge.
  Out of network under a PPO or POS plan, the allowed amount is multiplied by the plan's out-of-network rate.
* The adjustment charge - allowed is the contractual CO-45 ("charge exceeds fee schedule/maximum allowable")
  in network, and PR-45 out of network (no contract: the member may be billed the difference).
* The member's share of the allowed amount, in this order: the copay (PR-3), once per claim, on the first
  approved line; then the deductible still open in the plan year (PR-1); then coinsurance (PR-2) on the rest.
  Paid = allowed - copay - deductible - coinsurance. Per line, charge = paid + all its adjustments, exactly.

All money is ``Decimal`` dollars rounded to cents half-up (``cents``). CARC list entries: 1 deductible,
2 coinsurance, 3 co-payment, 45 charge exceeds fee schedule (x12.org/codes/claim-adjustment-reason-codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from claims.adjudication.edits import GroupCode
from claims.carc import Carc
from claims.fee_schedule import line_rvus

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
FACILITY_PLACES = frozenset({"21", "22", "23"})
FACILITY_FACTOR = Decimal("0.80")


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to cents, half up (dollars, Decimal)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Adjustment:
    """One CAS entry: group code (CO/PR/OA), CARC, optional RARC, amount in dollars."""

    group: str
    carc: str
    amount: Decimal
    rarc: str = ""


@dataclass
class CostShare:
    """What is left of the claim's copay and the member's deductible as lines are priced (dollars)."""

    copay_left: Decimal
    deductible_left: Decimal
    deductible_applied: Decimal = ZERO


@dataclass
class PricedLine:
    allowed: Decimal
    paid: Decimal
    adjustments: list[Adjustment] = field(default_factory=list)


def fee_schedule_amount(
    *, procedure_code: str, units: Decimal, place_of_service: str, conversion_factor: Decimal
) -> Decimal | None:
    """RVUs x units x conversion factor (x 0.80 in a facility), in dollars; None for a code without RVUs."""
    rvus = line_rvus(procedure_code, units)
    if rvus == 0:
        return None
    amount = rvus * conversion_factor
    if place_of_service in FACILITY_PLACES:
        amount *= FACILITY_FACTOR
    return cents(amount)


def price_line(
    *,
    charge: Decimal,
    schedule: Decimal | None,
    in_network: bool,
    out_of_network_rate: Decimal,
    coinsurance_rate: Decimal,
    share: CostShare,
) -> PricedLine:
    """Allowed, paid and the adjustments of one approved line; ``share`` is updated (copay, deductible).

    Guarantees charge = paid + sum(adjustments) and every amount >= 0.
    """
    allowed = charge if schedule is None else min(charge, schedule)
    if not in_network:
        allowed = cents(allowed * out_of_network_rate)
    adjustments: list[Adjustment] = []
    if charge > allowed:
        group = GroupCode.CONTRACTUAL if in_network else GroupCode.PATIENT
        adjustments.append(Adjustment(group, Carc.EXCEEDS_FEE_SCHEDULE, charge - allowed))
    open_amount = allowed
    copay = min(share.copay_left, open_amount)
    share.copay_left -= copay
    open_amount -= copay
    deductible = min(share.deductible_left, open_amount)
    share.deductible_left -= deductible
    share.deductible_applied += deductible
    open_amount -= deductible
    coinsurance = cents(open_amount * coinsurance_rate)
    for carc, amount in (
        (Carc.COPAYMENT, copay),
        (Carc.DEDUCTIBLE, deductible),
        (Carc.COINSURANCE, coinsurance),
    ):
        if amount > 0:
            adjustments.append(Adjustment(GroupCode.PATIENT, carc, amount))
    return PricedLine(allowed=allowed, paid=open_amount - coinsurance, adjustments=adjustments)
