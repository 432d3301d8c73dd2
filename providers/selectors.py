"""Reads of providers behind the admin search boxes: NPI by its unique index, names by a trigram index."""

from __future__ import annotations

from django.db.models import Q

from providers.models import Provider

NPI_LENGTH = 10


def is_npi_shaped(term: str) -> bool:
    """True for ten ASCII digits: the only terms worth looking up as an NPI."""
    return len(term) == NPI_LENGTH and term.isascii() and term.isdigit()


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
