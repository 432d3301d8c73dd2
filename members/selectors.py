"""Reads of members behind the admin search boxes: a term is resolved through one index per lookup.

Used by the members admin and, to turn a member search into member ids, by the claim search
(``claims.selectors``): Django's own ``search_fields`` would OR every field into one clause that no index serves.
"""

from __future__ import annotations

from django.db.models import Q

from members.models import Member
from ops.platform.paginators import SEARCH_ID_LIMIT


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
