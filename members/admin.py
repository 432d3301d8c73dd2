"""Members admin. Direct identifiers (MemberPII) are shown only to users holding members.view_memberpii.

Searches go through members.selectors.member_lookup_q, which only uses indexed lookups (member number, last-name
prefix); the shared admin toolkit lives in the floor (ops/platform/paginators.py).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from members.models import Enrollment, HealthPlan, Member, MemberAccumulator, MemberPII
from members.selectors import member_ids_for_search, member_lookup_q
from ops.platform.audit import AuditedAdminMixin
from ops.platform.paginators import LargeTableAdmin, ReadOnlyAdmin, TypedModelAdmin

PII_PERMISSION = "members.view_memberpii"


def can_see_pii(request: HttpRequest) -> bool:
    """Whether the user may see members' direct identifiers (PHI).

    Gated on the view permission itself: Django's default would also let anyone with add or change permission
    on MemberPII read it, and PHI access has to be granted explicitly.
    """
    return request.user.has_perm(PII_PERMISSION)


class MemberPIIInline(admin.StackedInline):
    model = MemberPII
    fields = ("address_line1", "address_line2", "phone", "email", "ssn")
    max_num = 1
    can_delete = False
    verbose_name_plural = "member PII (PHI)"

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return can_see_pii(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return can_see_pii(request) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return can_see_pii(request) and super().has_change_permission(request, obj)


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    fields = ("plan", "effective_date", "termination_date", "is_active")
    autocomplete_fields = ("plan",)
    # Within one member (enrollment_active_member_idx / the member foreign-key index), newest coverage first.
    ordering = ("-effective_date",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        return super().get_queryset(request).select_related("plan")


@admin.register(HealthPlan)
class HealthPlanAdmin(TypedModelAdmin[HealthPlan]):
    list_display = ("name", "payer_id", "plan_type")
    list_filter = ("plan_type",)
    # Tens of payers: Django's own search is fine here.
    search_fields = ("name", "=payer_id")

    def has_delete_permission(self, request: HttpRequest, obj: HealthPlan | None = None) -> bool:
        # A plan's claims PROTECT it, and the admin's delete page would load every one of them (millions) to
        # list them as the reason the delete is refused.
        return False


@admin.register(Member)
class MemberAdmin(AuditedAdminMixin, LargeTableAdmin[Member]):
    list_display = (
        "member_number",
        "last_name",
        "first_name",
        "date_of_birth",
        "gender",
        "state_code",
        "is_active",
    )
    list_filter = ("is_active", "gender")
    ordering = ("member_number",)  # member_number_uniq
    sortable_by = ("member_number",)
    # Non-empty so the search box shows (and autocompletes work); get_search_results does the actual work.
    search_fields = ("=member_number",)
    search_help_text = "Member number (exact) or last-name prefix ('SMITH' or 'SMITH, JO')."
    autocomplete_fields = ("subscriber",)
    inlines = (MemberPIIInline, EnrollmentInline)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Member], search_term: str
    ) -> tuple[QuerySet[Member], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(member_lookup_q(term)), False


@admin.register(MemberPII)
class MemberPIIAdmin(AuditedAdminMixin, LargeTableAdmin[MemberPII]):
    """Direct identifiers, reachable only with members.view_memberpii (also for users who may change them)."""

    list_display = ("member",)  # the identifiers themselves stay on the change page
    list_select_related = ("member",)
    ordering = ("-member_id",)  # the primary key
    sortable_by = ()
    search_fields = ("=member__member_number",)
    search_help_text = "Member number (exact) or last-name prefix."
    raw_id_fields = ("member",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[MemberPII], search_term: str
    ) -> tuple[QuerySet[MemberPII], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        member_ids, _ = member_ids_for_search(term)
        return queryset.filter(member_id__in=member_ids), False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_see_pii(request)

    def has_view_permission(self, request: HttpRequest, obj: MemberPII | None = None) -> bool:
        return can_see_pii(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_see_pii(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: MemberPII | None = None) -> bool:
        return can_see_pii(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: MemberPII | None = None) -> bool:
        return can_see_pii(request) and super().has_delete_permission(request, obj)


@admin.register(Enrollment)
class EnrollmentAdmin(LargeTableAdmin[Enrollment]):
    list_display = ("member", "plan", "effective_date", "termination_date", "is_active")
    list_select_related = ("member", "plan")
    list_filter = ("is_active", "plan")
    # Newest enrollments first, straight from the primary key index.
    ordering = ("-id",)
    sortable_by = ()
    search_fields = ("=member__member_number",)
    search_help_text = "Member number (exact) or last-name prefix."
    autocomplete_fields = ("member", "plan")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Enrollment], search_term: str
    ) -> tuple[QuerySet[Enrollment], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        member_ids, _ = member_ids_for_search(term)
        return queryset.filter(member_id__in=member_ids), False


@admin.register(MemberAccumulator)
class MemberAccumulatorAdmin(ReadOnlyAdmin):
    """Deductible met per member, plan and plan year: kept by adjudication, under a row lock."""

    list_display = ("member", "plan", "plan_year", "deductible_met")
    list_filter = ("plan_year",)
    ordering = ("-id",)
    sortable_by = ()
    raw_id_fields = ("member", "plan")
