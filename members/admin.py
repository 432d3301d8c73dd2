"""Members admin. Direct identifiers (MemberPII) are shown only to users holding members.view_memberpii.

Searches go through members.selectors.member_lookup_q, which only uses indexed lookups (member number, last-name
prefix); the shared admin toolkit lives in the floor (ops/platform/paginators.py).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from members.models import Enrollment, HealthPlan, Member, MemberAccumulator, MemberPII
from members.pii import ENCRYPTED_FIELDS, masked_email, masked_phone, masked_ssn, ssn_hmac
from members.selectors import member_ids_for_search, member_lookup_q
from ops.platform.audit import AuditedAdminMixin, audit_record
from ops.platform.models import AuditAction
from ops.platform.paginators import LargeTableAdmin, ReadOnlyAdmin, TypedModelAdmin

PII_PERMISSION = "members.view_memberpii"
REVEAL_PERMISSION = "members.reveal_memberpii"
# A search term that is an SSN: nine digits, dashes optional.
SSN_SHAPE = re.compile(r"\d{3}-?\d{2}-?\d{4}")


def can_see_pii(request: HttpRequest) -> bool:
    """Whether the user may see members' direct identifiers (PHI).

    Gated on the view permission itself: Django's default would also let anyone with add or change permission
    on MemberPII read it, and PHI access has to be granted explicitly.
    """
    return request.user.has_perm(PII_PERMISSION)


class PIIMasked:
    """Read-only masked columns of MemberPII for the admin (members/pii.py): the full values only through the
    audited reveal page."""

    @admin.display(description="SSN")
    def ssn_masked(self, obj: MemberPII) -> str:
        return masked_ssn(obj.ssn) or "-"

    @admin.display(description="phone")
    def phone_masked(self, obj: MemberPII) -> str:
        return masked_phone(obj.phone) or "-"

    @admin.display(description="e-mail")
    def email_masked(self, obj: MemberPII) -> str:
        return masked_email(obj.email) or "-"

    @admin.display(description="address")
    def address_masked(self, obj: MemberPII) -> str:
        return "on file (reveal to read)" if obj.address_line1 or obj.address_line2 else "-"

    @admin.display(description="full identifiers")
    def reveal_link(self, obj: MemberPII) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:members_memberpii_reveal", args=[obj.pk])
        return format_html('<a href="{}" id="pii-reveal">Reveal (audited, needs a reason)</a>', url)


MASKED_FIELDS = ("ssn_masked", "phone_masked", "email_masked", "address_masked", "reveal_link")


class MemberPIIInline(PIIMasked, admin.StackedInline):
    model = MemberPII
    fields = MASKED_FIELDS
    readonly_fields = MASKED_FIELDS
    max_num = 1
    can_delete = False
    verbose_name_plural = "member PII (PHI, masked; change it on its own page)"

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return can_see_pii(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class MemberPIIForm(forms.ModelForm):  # type: ignore[type-arg]
    """The identifiers as write-only inputs: a value on file is never put back into the page (only its mask, as a
    placeholder); a blank input keeps it."""

    class Meta:
        model = MemberPII
        fields = ("member", *ENCRYPTED_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        masks = {
            "ssn": masked_ssn(self.instance.ssn),
            "phone": masked_phone(self.instance.phone),
            "email": masked_email(self.instance.email),
        }
        for name in ENCRYPTED_FIELDS:
            self.initial[name] = ""
            field = self.fields[name]
            on_file = getattr(self.instance, name)
            field.widget.attrs["placeholder"] = masks.get(name) or ("on file" if on_file else "")
            field.widget.attrs["autocomplete"] = "off"
            field.help_text = "Leave blank to keep the value on file." if on_file else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None:
            for name in ENCRYPTED_FIELDS:
                if not cleaned.get(name):
                    cleaned[name] = getattr(self.instance, name)
        return cleaned


class RevealForm(forms.Form):
    reason = forms.CharField(
        min_length=10,
        max_length=200,
        help_text="Why you need the full identifiers (kept in the audit trail with your name).",
        widget=forms.TextInput(attrs={"size": 80, "autocomplete": "off"}),
    )


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

    def audit_detail(self, request: HttpRequest, object_id: object) -> str:
        # The member page with its PII inline (masked) is a different disclosure from the page without it.
        return "PII inline (masked)" if object_id and can_see_pii(request) else ""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Member], search_term: str
    ) -> tuple[QuerySet[Member], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(member_lookup_q(term)), False


@admin.register(MemberPII)
class MemberPIIAdmin(PIIMasked, AuditedAdminMixin, LargeTableAdmin[MemberPII]):
    """Direct identifiers, reachable only with members.view_memberpii (also for users who may change them), shown
    masked; the full values through ``reveal_view`` with members.reveal_memberpii and a reason, audited."""

    form = MemberPIIForm
    list_display = ("member",)  # the identifiers themselves stay on the change page
    list_select_related = ("member",)
    ordering = ("-member_id",)  # the primary key
    sortable_by = ()
    search_fields = ("=member__member_number",)
    search_help_text = "Member number (exact), last-name prefix, or an SSN (exact, by its keyed hash)."
    raw_id_fields = ("member",)
    readonly_fields = MASKED_FIELDS
    fieldsets = (
        (None, {"fields": ("member", *MASKED_FIELDS)}),
        ("Replace a value (write-only)", {"fields": ENCRYPTED_FIELDS}),
    )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="members_memberpii_reveal",
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The full identifiers of one member, for a user with members.reveal_memberpii who gives a reason
        (POST); each reveal is an audit event carrying the reason (45 CFR 164.312(b)). 403 (audited) without
        the permission."""
        if not (can_see_pii(request) and request.user.has_perm(REVEAL_PERMISSION)):
            raise PermissionDenied
        pii = get_object_or_404(MemberPII.objects.select_related("member"), pk=object_id)
        form = RevealForm(request.POST if request.method == "POST" else None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            audit_record(
                request=request,
                action=AuditAction.REVEAL,
                object_type=self.opts.label_lower,
                object_id=pii.pk,
                reason=form.cleaned_data["reason"],
            )
            revealed = {name: getattr(pii, name) or "" for name in ENCRYPTED_FIELDS}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Reveal the identifiers of member {pii.member.member_number}",
            "pii": pii,
            "form": form,
            "revealed": revealed,
        }
        return TemplateResponse(request, "admin/members/memberpii/reveal.html", context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[MemberPII], search_term: str
    ) -> tuple[QuerySet[MemberPII], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if SSN_SHAPE.fullmatch(term):
            return queryset.filter(ssn_hmac=ssn_hmac(term)), False
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
