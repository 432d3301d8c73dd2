"""6. Failed claims: denials by CARC, code-check problems, rejected files, per month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from analytics import codes
from analytics.models import FailedClaimsMonthly
from analytics.periods import MonthRange
from analytics.selectors.common import MonthlySeries

FAILED_SOURCES = (FailedClaimsMonthly,)
FAILED_KINDS = {
    "denied": "Denied claims",
    "code_check": "Claims with code-check problems",
    "file_rejected": "Rejected files",
}


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    label: str
    claims: int  # files, for rejected files
    billed: Decimal


@dataclass(frozen=True)
class FailedClaims:
    denials: list[ReasonRow]  # by CARC
    code_checks: list[ReasonRow]
    rejected_files: list[ReasonRow]  # by the segment of the first error

    @property
    def denied_claims(self) -> int:
        return sum(r.claims for r in self.denials)

    @property
    def code_check_claims(self) -> int:
        """Claims per problem kind, summed: a claim with two kinds of problem counts twice."""
        return sum(r.claims for r in self.code_checks)

    @property
    def files_rejected(self) -> int:
        return sum(r.claims for r in self.rejected_files)


def _failed_queryset(*, months: MonthRange, plan_id: int | None) -> QuerySet[FailedClaimsMonthly]:
    rows = FailedClaimsMonthly._default_manager.filter(month__range=(months.first, months.last))
    if plan_id is not None:
        # A rejected file has no payer (health_plan_id 0): it is shown whatever the plan.
        rows = rows.filter(Q(health_plan_id=plan_id) | Q(health_plan_id=0))
    return rows


def failed_claims(*, months: MonthRange, plan_id: int | None = None) -> FailedClaims:
    """Failures over ``months`` by kind and reason, largest first (one query)."""
    rows = (
        _failed_queryset(months=months, plan_id=plan_id)
        .order_by()
        .values("kind", "reason")
        .annotate(n=Sum("claims"), billed_sum=Sum("billed"))
        .order_by("-n", "reason")
    )
    by_kind: dict[str, list[ReasonRow]] = defaultdict(list)
    for row in rows:
        kind, reason = row["kind"], row["reason"]
        if kind == "denied":
            label = codes.carc_description(reason)
        elif kind == "code_check":
            label = codes.code_check_label(reason)
        else:
            label = codes.file_rejection_label(reason)
        by_kind[kind].append(ReasonRow(reason, label, row["n"], row["billed_sum"]))
    return FailedClaims(
        denials=by_kind["denied"],
        code_checks=by_kind["code_check"],
        rejected_files=[r for kind, rows_ in by_kind.items() if kind.startswith("file_") for r in rows_],
    )


def failed_by_month(*, months: MonthRange, plan_id: int | None = None) -> MonthlySeries:
    """Claims (files, for rejected files) per month and kind (``FAILED_KINDS``)."""
    counts: dict[str, dict[dt.date, int]] = defaultdict(dict)
    rows = (
        _failed_queryset(months=months, plan_id=plan_id)
        .order_by()
        .values("month", "kind")
        .annotate(n=Sum("claims"))
    )
    for row in rows:
        counts[row["kind"]][row["month"]] = row["n"]
    all_months = months.months()
    return MonthlySeries(
        all_months, {kind: [counts[kind].get(m, 0) for m in all_months] for kind in FAILED_KINDS}
    )
