"""Reads behind the admin search boxes: each search term is resolved through one index per lookup.

Django's own ``search_fields`` ORs every field, across joins, into one WHERE clause
(``claim_number ILIKE .. OR member.last_name ILIKE .. OR provider.npi ..``). No index serves an OR that spans
three tables, so at 10 million claims that is a sequential scan of every partition. Here the term is first
resolved to member and provider ids through their own indexes, and the claims are then filtered with an OR of
conditions on claims_claim's own columns, each of which has an index (a BitmapOr per partition).

A claim number is resolved through the lookup table ``ClaimNumber`` (one index probe) to the claims' keys
(id, service_date_from): the condition on the keys lets PostgreSQL prune the claims (and lines) to the months
they are in. Searched on claims_claim itself, a number is probed in every month partition: at 120 months that
is planning and locking 120 partitions and their indexes (bench/results/2026-12-01-partitions-120.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from claims.models import ClaimNumber
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


def claim_search(term: str, *, limit: int = SEARCH_ID_LIMIT, since: dt.date | None = None) -> ClaimSearch:
    """Resolve an admin search term: claim number, member number, member last-name prefix, or NPI.

    A claim number finds its claims in any month. A member's or provider's claims can be in any month too, and
    nothing says which: with ``since`` (a first day of month) they are searched from that month on only
    (``service_date_from >= since``, a literal on the partition key, so PostgreSQL plans those months' partitions
    only; PostgreSQL docs, "Partition Pruning"). The admin passes its recent months unless a service month is chosen:
    an examiner looking up a member wants the current claims first, and asks for older months explicitly.

    The returned ``q`` ORs, on claims_claim only:
    ``(id, service_date_from) IN`` the claim number's keys (``claim_keys_for_number``) -> the primary key, in
    those months' partitions only;
    ``member_id IN (..)`` -> claim_member_history_idx;
    ``billing_provider_id IN (..)`` -> claim_billing_date_idx;
    ``rendering_provider_id IN (..)`` -> the rendering_provider foreign-key index.
    """
    term = term.strip()
    member_ids, truncated = member_ids_for_search(term, limit=limit)
    provider_ids = provider_ids_for_npi(term)
    q = keys_q(claim_keys_for_number(term, limit=limit))
    parties = Q(pk__in=[])
    if member_ids:
        parties |= Q(member_id__in=member_ids)
    if provider_ids:
        parties |= Q(billing_provider_id__in=provider_ids) | Q(rendering_provider_id__in=provider_ids)
    if member_ids or provider_ids:
        q |= parties & Q(service_date_from__gte=since) if since is not None else parties
    return ClaimSearch(q=q, member_ids=member_ids, provider_ids=provider_ids, members_truncated=truncated)


def claim_keys_for_number(term: str, *, limit: int = SEARCH_ID_LIMIT) -> list[tuple[int, dt.date]]:
    """(id, service_date_from) of the claims numbered ``term`` (case-insensitive), at most ``limit``.

    From the lookup table (claimnumber_upper_idx), which ingest and the demo-data generator write for every
    claim; a claim whose month was retired has no row left there either (``ops.partitions``).
    """
    return list(
        ClaimNumber.objects.filter(claim_number__iexact=term.strip())
        .order_by()
        .values_list("claim_id", "service_date_from")[:limit]
    )


def keys_q(keys: Iterable[tuple[int, dt.date]], *, id_field: str = "id") -> Q:
    """``(id = .. AND service_date_from = ..) OR ..`` for claims' keys; for claim lines ``id_field="claim_id"``.

    Each branch names its partition key, so PostgreSQL prunes the scan to the partitions of those months when it
    plans (PostgreSQL docs, "Partition Pruning"). No keys: a condition nothing meets (Django runs no query).
    """
    q = Q(pk__in=[])
    for claim_id, service_date_from in keys:
        q |= Q(**{id_field: claim_id, "service_date_from": service_date_from})
    return q


def claim_ids_for_number(term: str, *, limit: int = SEARCH_ID_LIMIT) -> list[int]:
    """Ids of claims whose number is ``term`` (case-insensitive), at most ``limit``: for the status-history list,
    which searches by its claim's number (claim_id IN (..) -> statushistory_claim_idx; not partitioned)."""
    return [claim_id for claim_id, _ in claim_keys_for_number(term, limit=limit)]


def claim_line_search_q(term: str, *, since: dt.date | None = None) -> Q:
    """Lines of the claim numbered ``term``, or else lines with procedure code ``term``.

    A term that is a claim number gives that claim's lines only: its keys -> claimline_claim_idx in those months'
    partitions (ORed with the procedure code, every partition would be read for a code no line has). Any other
    term is a procedure code: ``procedure_code IN (..)`` -> claimline_procedure_idx, in every month, or from month
    ``since`` on when given (a literal on the partition key: those months' partitions only).
    """
    term = term.strip()
    keys = claim_keys_for_number(term)
    if keys:
        return keys_q(keys, id_field="claim_id")
    codes = Q(procedure_code__in=sorted({term, term.upper()}))
    return codes & Q(service_date_from__gte=since) if since is not None else codes
