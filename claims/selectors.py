"""Reads behind the admin search boxes: each search term is resolved through one index per lookup.

Django's own ``search_fields`` ORs every field, across joins, into one WHERE clause
(``claim_number ILIKE .. OR member.last_name ILIKE .. OR provider.npi ..``). No index serves an OR that spans
three tables, so at 10 million claims that is a sequential scan of every partition. Here the term is first
resolved to member and provider ids through their own indexes, and the claims are then filtered with an OR of
conditions on claims_claim's own columns, each of which has an index (a BitmapOr per partition).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from claims.models import Claim
from members.selectors import member_ids_for_search
from ops.platform.paginators import SEARCH_ID_LIMIT
from providers.selectors import provider_ids_for_npi


@dataclass(frozen=True)
class ClaimSearch:
    """A claim search term resolved to one filter on claims_claim's own columns."""

    q: Q
    member_ids: list[int]
    provider_ids: list[int]
    members_truncated: bool  # more than SEARCH_ID_LIMIT members matched; only the first ones are searched


def claim_search(term: str, *, limit: int = SEARCH_ID_LIMIT) -> ClaimSearch:
    """Resolve an admin search term: claim number, member number, member last-name prefix, or NPI.

    The returned ``q`` ORs, on claims_claim only:
    ``UPPER(claim_number::text) = UPPER(term)`` -> claim_number_upper_idx;
    ``member_id IN (..)`` -> claim_member_history_idx;
    ``billing_provider_id IN (..)`` -> claim_billing_number_idx / claim_billing_date_idx;
    ``rendering_provider_id IN (..)`` -> the rendering_provider foreign-key index.
    """
    term = term.strip()
    member_ids, truncated = member_ids_for_search(term, limit=limit)
    provider_ids = provider_ids_for_npi(term)
    q = Q(claim_number__iexact=term)
    if member_ids:
        q |= Q(member_id__in=member_ids)
    if provider_ids:
        q |= Q(billing_provider_id__in=provider_ids) | Q(rendering_provider_id__in=provider_ids)
    return ClaimSearch(q=q, member_ids=member_ids, provider_ids=provider_ids, members_truncated=truncated)


def claim_ids_for_number(term: str, *, limit: int = SEARCH_ID_LIMIT) -> list[int]:
    """Ids of claims whose number is ``term`` (case-insensitive, claim_number_upper_idx), at most ``limit``.

    For the line and status-history lists, which search by their claim's number.
    """
    return list(
        Claim.objects.filter(claim_number__iexact=term.strip())
        .order_by()
        .values_list("id", flat=True)[:limit]
    )


def claim_line_search_q(term: str) -> Q:
    """Lines of the claim numbered ``term``, or lines with procedure code ``term``.

    Index use: ``claim_id IN (..)`` -> claimline_claim_idx; ``procedure_code IN (..)`` -> claimline_procedure_idx.
    """
    term = term.strip()
    q = Q(procedure_code__in=sorted({term, term.upper()}))
    claim_ids = claim_ids_for_number(term)
    if claim_ids:
        q |= Q(claim_id__in=claim_ids)
    return q
