"""4. Provider performance: billing providers for a month, sortable, with rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, FloatField, QuerySet
from django.db.models.functions import Cast, NullIf

from analytics.models import ProviderDailyTotals, ProviderMonthlyTotals
from providers.models import EntityType

# The page's figures come from the month grain; its default month (the latest complete one) from the day grain.
PROVIDER_SOURCES = (ProviderDailyTotals, ProviderMonthlyTotals)
# The columns a person may sort by, and what each sorts on: only these reach order_by().
PROVIDER_SORTS: dict[str, str] = {
    "provider": "name_key",
    "npi": "npi",
    "claims": "claims",
    "approval_rate": "approval_rate",
    "denial_rate": "denial_rate",
    "billed": "billed",
    "paid": "paid",
    "rvus": "rvus",
}
PROVIDER_DEFAULT_SORT = "-claims"


def provider_performance(
    *, month: dt.date, sort: str = PROVIDER_DEFAULT_SORT
) -> QuerySet[Any, dict[str, Any]]:
    """One row per billing provider for ``month`` (its first day; dicts: provider fields, sums and rates), sorted
    by ``sort`` (a ``PROVIDER_SORTS`` key, "-" for descending), then by provider id so pages never overlap.

    Reads ``ProviderMonthlyTotals``: one row per provider and month, no aggregation at read time (its
    covering index gives a month's rows in an index-only scan). Raises KeyError for a sort outside the
    whitelist. Money in dollars; rates 0..1 of the provider's claims.
    """
    column = PROVIDER_SORTS[sort.removeprefix("-")]
    order = F(column).desc(nulls_last=True) if sort.startswith("-") else F(column).asc(nulls_last=True)
    claims = Cast("claims", FloatField())
    return (
        ProviderMonthlyTotals.objects.filter(month=month)
        .values("billing_provider_id", "claims", "approved", "denied", "billed", "paid", "rvus")
        .annotate(
            npi=F("billing_provider__npi"),
            entity_type=F("billing_provider__entity_type"),
            organization_name=F("billing_provider__organization_name"),
            last_name=F("billing_provider__last_name"),
            first_name=F("billing_provider__first_name"),
            name_key=F("billing_provider__search_name"),
            approval_rate=Cast("approved", FloatField()) / NullIf(claims, 0.0),
            denial_rate=Cast("denied", FloatField()) / NullIf(claims, 0.0),
        )
        .order_by(order, "billing_provider_id")
    )


@dataclass(frozen=True)
class ProviderRow:
    provider_id: int
    npi: str
    name: str
    claims: int
    approved: int
    denied: int
    billed: Decimal
    paid: Decimal
    rvus: Decimal
    approval_rate: float | None
    denial_rate: float | None


def provider_rows(rows: Iterable[Mapping[str, Any]]) -> list[ProviderRow]:
    """Typed rows for a page of ``provider_performance``, with the name as ``Provider.display_name`` says it."""
    result = []
    for row in rows:
        if row["entity_type"] == EntityType.ORGANIZATION or not row["last_name"]:
            name = row["organization_name"] or row["last_name"]
        else:
            name = f"{row['last_name']}, {row['first_name']}".strip(", ")
        result.append(
            ProviderRow(
                provider_id=row["billing_provider_id"],
                npi=row["npi"],
                name=name,
                claims=row["claims"],
                approved=row["approved"],
                denied=row["denied"],
                billed=row["billed"],
                paid=row["paid"],
                rvus=row["rvus"],
                approval_rate=row["approval_rate"],
                denial_rate=row["denial_rate"],
            )
        )
    return result
