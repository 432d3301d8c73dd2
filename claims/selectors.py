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
from members.models import Member
from providers.models import Provider

# Most member ids a search resolves to before filtering claims by them: a one-letter name prefix matches a
# tenth of all members, and "member_id IN (...)" probes claim_member_history_idx once per id and partition.
# Measured at 2 million claims: 200 ids keep the planner on the indexes (bitmap scans, ~40 ms); at 500 it
# switches to a parallel sequential scan of every partition (~0.8 s). A list of 100 claims needs no more.
SEARCH_ID_LIMIT = 100

NPI_LENGTH = 10


def is_npi_shaped(term: str) -> bool:
    """True for ten ASCII digits: the only terms worth looking up as an NPI."""
    return len(term) == NPI_LENGTH and term.isascii() and term.isdigit()


def _looks_like_name(term: str) -> bool:
    # Names carry letters and no digits; claim and member numbers usually carry digits, and trying them as a
    # name prefix would only add a useless index probe.
    return any(ch.isalpha() for ch in term) and not any(ch.isdigit() for ch in term)


def member_lookup_q(term: str) -> Q:
    """Members whose number is ``term`` or, for a name-like term, whose last name starts with it.

    ``"SMITH, JO"`` means last name starting SMITH and first name starting JO. Index use:
    ``member_number = ..`` -> member_number_uniq; ``UPPER(last_name::text) LIKE 'SMI%'`` (Django's istartswith)
    -> member_name_dob_upper_idx, whose text_pattern_ops make the prefix LIKE an index range under any collation.
    """
    q = Q(member_number__in=sorted({term, term.upper()}))
    if _looks_like_name(term):
        last, _, first = (part.strip() for part in term.partition(","))
        if last:
            name_q = Q(last_name__istartswith=last)
            if first:
                name_q &= Q(first_name__istartswith=first)
            q |= name_q
    return q


def member_ids_for_search(term: str, *, limit: int = SEARCH_ID_LIMIT) -> tuple[list[int], bool]:
    """Ids of at most ``limit`` members matching ``term`` (see ``member_lookup_q``), and whether more matched."""
    # No ORDER BY: Member's default ordering (member_number) would sort every match of a short name prefix
    # before the LIMIT; unordered, the index scan stops after limit + 1 rows.
    ids = list(
        Member.objects.filter(member_lookup_q(term)).order_by().values_list("id", flat=True)[: limit + 1]
    )
    return ids[:limit], len(ids) > limit


def provider_lookup_q(term: str) -> Q:
    """Providers whose NPI is ``term`` (ten digits), else whose name contains it.

    Index use: ``npi = ..`` -> providers_provider_npi_key (unique); ``UPPER(search_name::text) LIKE '%X%'``
    (Django's icontains) -> provider_name_trgm_idx, a trigram GIN on UPPER(search_name).
    """
    if is_npi_shaped(term):
        return Q(npi=term)
    return Q(search_name__icontains=term)


def provider_ids_for_npi(term: str) -> list[int]:
    """Id of the provider with NPI ``term`` (empty unless ``term`` is ten digits and on file)."""
    if not is_npi_shaped(term):
        return []
    return list(Provider.objects.filter(npi=term).values_list("id", flat=True))


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
