"""Providers admin: NPI lookups by the unique index, name lookups by the trigram index on search_name."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ops.platform.paginators import SEARCH_ID_LIMIT, LargeTableAdmin, TypedModelAdmin
from providers.models import Provider, ProviderNetwork, Specialty
from providers.selectors import provider_lookup_q


@admin.register(Specialty)
class SpecialtyAdmin(TypedModelAdmin[Specialty]):
    """NUCC taxonomy codes: reference data of under a thousand rows."""

    list_display = ("taxonomy_code", "name")
    search_fields = ("=taxonomy_code", "name")

    def has_delete_permission(self, request: HttpRequest, obj: Specialty | None = None) -> bool:
        # Providers PROTECT their specialty, and the delete page would load every one of them to list them.
        return False


class ProviderNetworkInline(admin.TabularInline):
    model = ProviderNetwork
    fields = ("plan", "accepting_new_patients", "effective_date")
    autocomplete_fields = ("plan",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProviderNetwork]:
        return super().get_queryset(request).select_related("plan")


@admin.register(Provider)
class ProviderAdmin(LargeTableAdmin[Provider]):
    list_display = ("npi", "name", "entity_type", "primary_specialty", "state_code", "is_active", "npi_valid")
    list_select_related = ("primary_specialty",)
    list_filter = ("entity_type", "is_active", "npi_valid")
    ordering = ("npi",)  # the unique index on npi
    sortable_by = ("npi",)
    # Non-empty so the search box shows (and autocompletes work); get_search_results does the actual work.
    search_fields = ("=npi",)
    search_help_text = "10-digit NPI (exact), or any part of the name."
    autocomplete_fields = ("primary_specialty",)
    readonly_fields = ("search_name",)
    inlines = (ProviderNetworkInline,)

    @admin.display(description="name")
    def name(self, obj: Provider) -> str:
        return obj.display_name

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Provider], search_term: str
    ) -> tuple[QuerySet[Provider], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(provider_lookup_q(term)), False

    def has_delete_permission(self, request: HttpRequest, obj: Provider | None = None) -> bool:
        # A provider's claims PROTECT it, and the delete page would load all of them (set is_active instead).
        return False


@admin.register(ProviderNetwork)
class ProviderNetworkAdmin(LargeTableAdmin[ProviderNetwork]):
    list_display = ("provider", "plan", "accepting_new_patients", "effective_date")
    list_select_related = ("provider", "plan")
    list_filter = ("accepting_new_patients", "plan")
    ordering = ("-id",)
    sortable_by = ()
    search_fields = ("=provider__npi",)
    search_help_text = "Provider NPI (exact) or any part of the provider's name."
    autocomplete_fields = ("provider", "plan")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ProviderNetwork], search_term: str
    ) -> tuple[QuerySet[ProviderNetwork], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # Resolved to provider ids first (NPI or trigram index), then provider_id IN (..) uses the provider_id
        # foreign-key index; a join would OR a trigram match into the network query instead.
        provider_ids = list(
            Provider.objects.filter(provider_lookup_q(term))
            .order_by()
            .values_list("id", flat=True)[:SEARCH_ID_LIMIT]
        )
        return queryset.filter(provider_id__in=provider_ids), False
