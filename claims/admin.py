"""Claims admin, built for 10 million claims: no full counts, index-only ordering and searches.

See ops/platform/paginators.py for the count and ordering rules and claims/selectors.py for how a search term is
resolved to indexed lookups. Claims, lines and status history cannot be deleted here: a claim is a record of
what a submitter sent (corrections arrive as replacement or void claims, CLM05-3 = 7 / 8), and the composite
foreign key from the lines would reject the delete at commit anyway. For the same reason a claim's own fields
are read-only on its page, and its decision changes only through the services.

The examiners' work queue (``WorkQueueAdmin``, the proxy ``WorkQueueClaim``) lists pended claims and acts on them
through claims.services.examiner, each action a compare-and-set on the status the page showed (README "Examiner
work"). Every list filter takes its choices from an enum or a small table, never from the claims.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import warnings
from collections import defaultdict
from collections.abc import Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, ClassVar

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import DateTimeField, ExpressionWrapper, F, Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from claims.adjudication.edits import PendReason
from claims.carc import Carc, carc_description
from claims.codes import ICD10CM_LOCK, _icd
from claims.lifecycle import ClaimStatus
from claims.models import (
    AdjudicationRun,
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimMonthCount,
    ClaimNumber,
    ClaimStatusHistory,
    DiagnosisCodeSystem,
    IngestBatch,
    Remittance,
    RemittanceRun,
    ValidationOutcome,
    WorkQueueClaim,
)
from claims.selectors import claim_ids_for_number, claim_line_search_q, claim_search
from claims.services.adjudication import claims_readjudicate
from claims.services.examiner import (
    ActionRefused,
    SeenClaim,
    claims_approve,
    claims_assign,
    claims_deny,
    claims_override,
    claims_pend,
)
from claims.services.lifecycle import StatusConflict, month_days, months_holding
from members.admin import can_see_pii
from members.models import Enrollment, Member
from ops.platform.audit import AuditedAdminMixin
from ops.platform.models import AuditAction
from ops.platform.paginators import (
    SEARCH_ID_LIMIT,
    IndexOrderedChangeList,
    LargeTableAdmin,
    ReadOnlyAdmin,
    TypedModelAdmin,
)

# CMS place of service codes most claims carry. A fixed list because Django's default filter for a plain
# CharField runs SELECT DISTINCT place_of_service over every claim to build its choices.
PLACE_OF_SERVICE_CHOICES = [
    ("02", "02 Telehealth (not in patient's home)"),
    ("10", "10 Telehealth in patient's home"),
    ("11", "11 Office"),
    ("12", "12 Home"),
    ("19", "19 Off campus outpatient hospital"),
    ("20", "20 Urgent care facility"),
    ("21", "21 Inpatient hospital"),
    ("22", "22 On campus outpatient hospital"),
    ("23", "23 Emergency room, hospital"),
    ("24", "24 Ambulatory surgical center"),
    ("31", "31 Skilled nursing facility"),
    ("32", "32 Nursing facility"),
    ("41", "41 Ambulance, land"),
    ("49", "49 Independent clinic"),
    ("50", "50 Federally qualified health center"),
    ("81", "81 Independent laboratory"),
    ("99", "99 Other place of service"),
]

# Most warnings or errors the batch page renders: a bad file can carry tens of thousands.
PROBLEMS_SHOWN = 200

# An 837P claim carries at most 50 service lines (005010X222A1, loop 2400 repeat).
MAX_LINES_PER_CLAIM = 50


class PlaceOfServiceFilter(admin.SimpleListFilter):
    title = "place of service"
    parameter_name = "place_of_service"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return PLACE_OF_SERVICE_CHOICES

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(place_of_service=value) if value else queryset


def _claim_link(claim_id: int) -> SafeString:
    # Built from the id alone: joining the partitioned claims table for every listed row only to print a
    # link would cost one index probe per partition per row.
    url = reverse("admin:claims_claim_change", args=[claim_id])
    return format_html('<a href="{}">{}</a>', url, claim_id)


class ClaimChangeList(IndexOrderedChangeList):
    """Claims changelist; search results are sorted after they are found, never found by walking the sort index.

    With a search, ``ORDER BY received_at DESC LIMIT 100`` tempts the planner to walk claim_received_idx
    backwards and filter every row until 100 match: for a few hundred matching claims among millions that reads
    most of the index (measured: 0.6 s at 2 million claims, growing with the table). Sorting by an expression
    no index provides makes it find the matches through their own indexes (the primary key for a claim number's
    keys, claim_member_history_idx, ...) and sort just those, so a search costs what it matches, not the table
    size.
    Without a search the plain column order stands, served by claim_received_idx.
    """

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        ordering = super().get_ordering(request, queryset)
        if not self.query:
            return ordering
        return [_sort_after_filtering(part) for part in ordering]


def _sort_after_filtering(part: Any) -> Any:
    if not isinstance(part, str) or part.lstrip("-") != "received_at":
        return part
    # received_at + 0 sorts identically, but is an expression claim_received_idx cannot supply.
    expression = ExpressionWrapper(F("received_at") + dt.timedelta(0), output_field=DateTimeField())
    return expression.desc() if part.startswith("-") else expression.asc()


class ClaimLineFormSet(BaseInlineFormSet):
    """Lines of one claim, read from the claim's month partition only.

    A line's ``service_date_from`` is its claim's partition key, never typed in: new lines take the claim's,
    which also keeps the composite foreign key (claim_id, service_date_from) satisfied.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # BaseInlineFormSet has already narrowed self.queryset to this claim (or to none() for a new claim).
        if self.instance.pk is not None and self.queryset is not None:
            # The partition key in the WHERE clause prunes the scan to one month's partition.
            self.queryset = self.queryset.filter(service_date_from=self.instance.service_date_from)

    def save_new(self, form: Any, commit: bool = True) -> Model:
        form.instance.service_date_from = self.instance.service_date_from
        return super().save_new(form, commit=commit)


class ClaimLineInline(admin.TabularInline):
    model = ClaimLine
    fk_name = "claim"
    formset = ClaimLineFormSet
    fields = (
        "line_number",
        "procedure_qualifier",
        "procedure_code",
        "modifiers",
        "charge",
        "unit_basis",
        "units",
        "place_of_service",
        "diagnosis_pointers",
        "service_date",
        "service_date_to",
        "allowed",
        "paid",
        "decision",
    )
    # The line's decision is written by adjudication and the examiner services only (with its CAS entries, which
    # the "Adjudication by line" table shows); an edit here would unbalance charge = paid + adjustments.
    readonly_fields = ("allowed", "paid", "decision")
    # Within one claim the line number is the whole order (claimline_claim_idx).
    ordering = ("line_number",)
    extra = 0
    max_num = MAX_LINES_PER_CLAIM
    can_delete = False


class ClaimStatusHistoryInline(admin.TabularInline):
    """The claim's status transitions, read-only: history is written by the services, never edited."""

    model = ClaimStatusHistory
    fk_name = "claim"
    fields = ("changed_at", "from_status", "to_status", "source", "changed_by", "note")
    readonly_fields = fields
    ordering = ("changed_at", "id")  # within one claim: statushistory_claim_idx
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClaimStatusHistory]:
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


# --- the claim page's pieces -----------------------------------------------------------------------------------


@functools.cache
def icd10cm_shown(code: str) -> tuple[str, str]:
    """An ICD-10-CM code as sent ("E119") -> (the code with its dot "E11.9", its title from the tabular list).

    The title is "(not an ICD-10-CM code)" for a code the list does not hold. Loads simple_icd_10_cm through
    claims.codes' cached loader (about 1.8 s, once per process).
    """
    icd = _icd()
    with ICD10CM_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if not icd.is_valid_item(code):
            return code, "(not an ICD-10-CM code)"
        return icd.add_dot(code), icd.get_description(code)


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}"


# The request of the claim page being drawn: its read-only fields are methods that Django calls without one, and
# the admin instance is shared by every thread, so the request cannot be kept on it.
_PAGE_REQUEST: ContextVar[HttpRequest | None] = ContextVar("claim_page_request", default=None)


def _admin_link(obj: Model, text: str) -> SafeString:
    """``text`` linked to ``obj``'s admin page when the user of the page may view it, plain text otherwise."""
    opts = obj._meta
    request = _PAGE_REQUEST.get()
    if request is not None and request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, text)
    return format_html("{}", text)


class _ClaimPage:
    """The read-only claim page, shared by the claims list and the work queue (a proxy of the same table).

    A claim is a record of what the submitter sent: none of its fields can be edited here, and its decision
    changes only through the services (claims.services.lifecycle / examiner). Member name, date of birth and
    eligibility are shown only with ``members.view_memberpii`` (PHI).
    """

    @admin.display(description="denial CARC")
    def denial_carc(self, obj: Claim) -> str:
        if not obj.denial_reason_code:
            return "-"
        return f"{obj.denial_reason_code} — {carc_description(obj.denial_reason_code)}"

    @admin.display(description="pend reason")
    def pend_reason_label(self, obj: Claim) -> str:
        return _pend_label(obj.pend_reason) or "-"

    @admin.display(description="source batch (999)")
    def batch_outcome(self, obj: Claim) -> SafeString | str:
        if obj.batch_id is None:
            return "-"
        batch = IngestBatch.objects.only("id", "file_name", "validation_status").get(pk=obj.batch_id)
        outcome = ValidationOutcome(batch.validation_status).label
        return format_html("{} — 999: {}", _admin_link(batch, batch.file_name), outcome)

    @admin.display(description="835 remittance")
    def remittance_link(self, obj: Claim) -> SafeString | str:
        if obj.remittance_id is None:
            return "Not remitted yet"
        remittance = Remittance.objects.only("id", "file_name", "trace_number").get(pk=obj.remittance_id)
        text = f"{remittance.file_name} (TRN {remittance.trace_number})"
        return _admin_link(remittance, text)

    @admin.display(description="diagnoses")
    def diagnoses_table(self, obj: Claim) -> SafeString:
        if not obj.diagnosis_codes:
            return format_html("<p>{}</p>", "None sent")
        if obj.diagnosis_code_system != DiagnosisCodeSystem.ICD10CM:
            shown = [(code, "(ICD-9-CM: no titles here)") for code in obj.diagnosis_codes]
        else:
            shown = [icd10cm_shown(code) for code in obj.diagnosis_codes]
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td class="diagnosis-code">{}</td><td>{}</td></tr>',
            ((pointer, code, title) for pointer, (code, title) in enumerate(shown, start=1)),
        )
        return format_html(
            '<table class="diagnoses"><thead><tr><th>#</th><th>Code</th><th>Title (ICD-10-CM)</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="member (PHI)")
    def member_pii(self, obj: Claim) -> SafeString:
        # Listed in the fieldsets only for users with members.view_memberpii (get_fieldsets).
        member = Member.objects.only("first_name", "last_name", "date_of_birth").get(pk=obj.member_id)
        spans = (
            Enrollment.objects.filter(member_id=obj.member_id)
            .select_related("plan")
            .order_by("-effective_date")
        )
        eligibility = format_html_join(
            "",
            "<li>{}: {} – {}{}</li>",
            (
                (
                    e.plan.name,
                    e.effective_date,
                    e.termination_date or "open",
                    "" if e.is_active else " (inactive)",
                )
                for e in spans
            ),
        )
        return format_html(
            '<dl class="member-pii"><dt>Name</dt><dd>{}</dd><dt>Date of birth</dt><dd>{}</dd>'
            "<dt>Eligibility</dt><dd><ul>{}</ul></dd></dl>",
            f"{member.last_name}, {member.first_name}".strip(", "),
            member.date_of_birth or "-",
            eligibility or format_html("<li>{}</li>", "No enrollment on file"),
        )

    @admin.display(description="adjudication by line")
    def adjudication_table(self, obj: Claim) -> SafeString:
        lines = list(
            ClaimLine.objects.filter(claim_id=obj.pk, service_date_from=obj.service_date_from)
            .order_by("line_number")
            .only("line_number", "procedure_code", "modifiers", "charge", "allowed", "paid", "decision")
        )
        by_line: dict[int, list[ClaimAdjustment]] = defaultdict(list)
        for adjustment in ClaimAdjustment.objects.filter(claim_id=obj.pk).order_by("line_number", "id"):
            by_line[adjustment.line_number].append(adjustment)

        def cas(number: int) -> SafeString:
            return format_html_join(
                "",
                '<li><span class="cas">{}-{}{}</span> {} <span class="carc-description">{}</span></li>',
                (
                    (
                        a.group_code,
                        a.carc,
                        f" ({a.rarc})" if a.rarc else "",
                        _money(a.amount),
                        carc_description(a.carc),
                    )
                    for a in by_line.get(number, ())
                ),
            )

        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><ul>{}</ul></td></tr>",
            (
                (
                    line.line_number,
                    " ".join([line.procedure_code, *line.modifiers]),
                    _money(line.charge),
                    _money(line.allowed),
                    _money(line.paid),
                    line.decision or "-",
                    cas(line.line_number),
                )
                for line in lines
            ),
        )
        claim_level = (
            format_html('<tr><td>claim</td><td colspan="5"></td><td><ul>{}</ul></td></tr>', cas(0))
            if by_line.get(0)
            else ""
        )
        adjusted = sum((a.amount for group in by_line.values() for a in group), Decimal("0"))
        balanced = obj.total_charge == obj.total_paid + adjusted
        return format_html(
            '<table class="adjudication"><thead><tr><th>Line</th><th>Procedure</th><th>Charge</th>'
            "<th>Allowed</th><th>Paid</th><th>Decision</th><th>Adjustments (CAS)</th></tr></thead>"
            "<tbody>{}{}</tbody></table>"
            '<p class="balance">Charge {} = paid {} + adjustments {}: {}</p>',
            rows,
            claim_level,
            _money(obj.total_charge),
            _money(obj.total_paid),
            _money(adjusted),
            "balances" if balanced else "DOES NOT BALANCE",
        )


def _pend_label(value: str) -> str:
    try:
        return str(PendReason(value).label)
    except ValueError:
        return value


# --- filters (choices from enums or small tables: never a query over the claims table) ------------------------


class AssigneeFilter(admin.SimpleListFilter):
    """Assignee: me, unassigned, or one examiner (members of the claims staff groups, a small query on auth)."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        staff = (
            get_user_model()
            .objects.filter(groups__name__in=STAFF_GROUPS, is_active=True)
            .distinct()
            .order_by("username")
            .values_list("pk", "username")
        )
        return [("me", "Assigned to me"), ("none", "Unassigned"), *((str(pk), name) for pk, name in staff)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value:
            if not value.isdigit():
                raise IncorrectLookupParameters(f"assignee={value!r}")
            return queryset.filter(assignee_id=int(value))
        return queryset


class PendReasonFilter(admin.SimpleListFilter):
    title = "pend reason"
    parameter_name = "pend_reason"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in PendReason.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(pend_reason=value) if value else queryset


# Age of a queued claim in whole days since it was received: (lookup, label, youngest day, oldest day or None).
AGE_BANDS = [("0-7", "0–7 days", 0, 7), ("8-30", "8–30 days", 8, 30), ("31+", "31 days or more", 31, None)]


class AgeFilter(admin.SimpleListFilter):
    """Days since receipt; a range of received_at, which claim_work_queue_idx serves in its own order."""

    title = "age"
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(value, label) for value, label, _, _ in AGE_BANDS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        for value, _, youngest, oldest in AGE_BANDS:
            if self.value() == value:
                now = timezone.now()
                # Age d days means received in (now - (d + 1) days, now - d days].
                queryset = queryset.filter(received_at__lte=now - dt.timedelta(days=youngest))
                if oldest is not None:
                    queryset = queryset.filter(received_at__gt=now - dt.timedelta(days=oldest + 1))
                return queryset
        return queryset


# Months offered by the service-month filter: this one and the two years before it (the partitions kept).
SERVICE_MONTHS = 24
# What a list shows by default: the claims served in this month and the two before it (and any dated later).
RECENT_MONTHS = 3
ALL_MONTHS = "all"
# Filters that bound the months themselves (to the months holding a status): with one of them, or a search, the
# list is not cut to the recent months by default.
_MONTH_BOUNDING_PARAMETERS = frozenset({"status__exact", "carc", SEARCH_VAR})


def recent_months_start() -> dt.date:
    """First day of the oldest of the ``RECENT_MONTHS`` service months a list shows by default (UTC, like the
    partition maintenance)."""
    return timezone.now().date().replace(day=1) - relativedelta(months=RECENT_MONTHS - 1)


def windowed(request: HttpRequest) -> bool:
    """True when a list shows the recent months only: no service month chosen (not even "all months"), no search
    and no filter that bounds the months itself."""
    return ServiceMonthFilter.parameter_name not in request.GET and not (
        _MONTH_BOUNDING_PARAMETERS & {key for key, value in request.GET.items() if value}
    )


class ServiceMonthFilter(admin.SimpleListFilter):
    """First date of service by month: the partition key, so the list reads one month's partition only.

    With no month chosen, a list shows the last ``RECENT_MONTHS`` months (``service_date_from >= <first day>``, a
    literal: PostgreSQL plans those months' partitions and the ones ahead only, PostgreSQL docs, "Partition
    Pruning"), unless a search or a status filter bounds the months itself. Read unbounded, the list was planned
    and locked over every month partition, 2,014 locks at 120 months
    (bench/results/2026-12-01-partitions-120.md, rows 1 and 19). "All months" reads every month, on purpose.
    """

    title = "service month"
    parameter_name = "service_month"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        this_month = timezone.now().date().replace(day=1)
        months = [this_month - relativedelta(months=k) for k in range(SERVICE_MONTHS + 1)]
        return [(ALL_MONTHS, "All months"), *((f"{m:%Y-%m}", f"{m:%Y-%m}") for m in months)]

    def choices(self, changelist: Any) -> Any:
        # Django's first choice, "All", is the list with no parameter: here that is the recent months.
        first, *rest = list(super().choices(changelist))
        yield {**first, "display": f"Last {RECENT_MONTHS} months"}
        yield from rest

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            if windowed(request):
                return queryset.filter(service_date_from__gte=recent_months_start())
            return queryset
        if value == ALL_MONTHS:
            return queryset
        try:
            first = dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError as exc:
            raise IncorrectLookupParameters(f"service_month={value!r}") from exc
        return queryset.filter(
            service_date_from__gte=first, service_date_from__lt=first + relativedelta(months=1)
        )


def _in_months_holding(queryset: QuerySet[Any], *states: str) -> QuerySet[Any]:
    """``queryset`` bounded to the months that hold claims in one of ``states`` (claims.services.lifecycle
    ``months_holding``), as a literal list of their days on the partition key: PostgreSQL plans the list over those
    months' partitions only (PostgreSQL docs, "Partition Pruning"), where a filter on the status alone was planned
    and locked over every month (bench/results/2026-12-01-partitions-120.md, rows 12-13 and 22-23)."""
    return queryset.filter(service_date_from__in=month_days(months_holding(states)))


class StatusFilter(admin.SimpleListFilter):
    """Claims in one status, read from the months that hold that status only (Django's own filter on the field
    reads every month). Same parameter as Django's (``status__exact``), so links keep working."""

    title = "status"
    parameter_name = "status__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in ClaimStatus.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value not in ClaimStatus.values:
            raise IncorrectLookupParameters(f"status={value!r}")
        return _in_months_holding(queryset.filter(status=value), value)


class DenialCarcFilter(admin.SimpleListFilter):
    """Denied claims by CARC (claim_status_received_idx finds the denied ones; the CARC filters them)."""

    title = "denial CARC"
    parameter_name = "carc"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(c.value), f"{c.value} {c.label}") for c in Carc]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return _in_months_holding(
            queryset.filter(status=ClaimStatus.DENIED, denial_reason_code=value), ClaimStatus.DENIED
        )


# Batches offered by the batch filter: the newest ones (ingestbatch_started_idx); any other batch is reached
# from its own page ("Claims of this batch"), which sets the same parameter.
BATCHES_LISTED = 20


class BatchFilter(admin.SimpleListFilter):
    title = "batch"
    parameter_name = "batch"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        batches = list(
            IngestBatch.objects.order_by("-started_at", "-id").values_list("pk", "file_name")[:BATCHES_LISTED]
        )
        value = self.value()
        if value and value.isdigit() and int(value) not in {pk for pk, _ in batches}:
            batches += list(IngestBatch.objects.filter(pk=int(value)).values_list("pk", "file_name"))
        return [(str(pk), name) for pk, name in batches]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(f"batch={value!r}")
        return queryset.filter(batch_id=int(value))


# --- the claims list and page ----------------------------------------------------------------------------------


@admin.register(Claim)
class ClaimAdmin(_ClaimPage, AuditedAdminMixin, LargeTableAdmin[Claim]):
    list_display: tuple[str, ...] = (
        "claim_number",
        "status",
        "member_name",
        "health_plan",
        "total_charge",
        "total_paid",
        "received_at",
    )
    list_select_related = ("member", "health_plan")
    # 50 a page (Django's default is 100), the claims lists and the work queue alike: rendering the rows (and
    # decrypting the members' names) is most of a list's cost, 60 of 95 ms for 100 rows of the work queue at
    # 1M claims; an examiner works the oldest claims first, a page at a time.
    list_per_page = 50
    # claim_received_idx is (-received_at, -id); IndexOrderedChangeList keeps id in step when sorted ascending.
    ordering = ("-received_at", "-id")
    sortable_by = ("received_at",)
    # Every filter's choices come from an enum or a small table (plans, recent batches, staff), never from a
    # SELECT DISTINCT over the claims; see PlaceOfServiceFilter.
    list_filter: ClassVar[tuple[Any, ...]] = (
        StatusFilter,
        "health_plan",
        ServiceMonthFilter,
        DenialCarcFilter,
        BatchFilter,
        AssigneeFilter,
        "frequency_code",
        PlaceOfServiceFilter,
    )
    # Non-empty so the search box shows; get_search_results does the actual work.
    search_fields = ("=claim_number",)
    search_help_text = (
        "Claim number, member number, member last-name prefix ('SMITH' or 'SMITH, JO') or a 10-digit NPI "
        "(billing or rendering)."
    )
    autocomplete_fields = ("member", "health_plan", "billing_provider", "rendering_provider")
    raw_id_fields = ("batch", "related_claim")
    inlines = (ClaimLineInline, ClaimStatusHistoryInline)
    change_form_template = "admin/claims/claim/change_form.html"
    # The add form (a claim keyed in by hand): the fields a submitter sends; the decision is never typed in.
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "claim_number",
                    ("service_date_from", "service_date_to"),
                    "place_of_service",
                    "frequency_code",
                    "total_charge",
                )
            },
        ),
        ("Parties", {"fields": ("member", "health_plan", "billing_provider", "rendering_provider")}),
        ("Diagnoses", {"fields": ("diagnosis_code_system", "diagnosis_codes")}),
        (
            "Related claim",
            {
                "fields": (
                    "related_claim",
                    "related_service_date_from",
                    "relation",
                    "payer_claim_control_number",
                )
            },
        ),
        ("Receipt", {"fields": ("batch", "received_at")}),
    )
    # The page of an existing claim: everything read-only.
    claim_fieldsets = (
        (
            None,
            {
                "fields": (
                    "claim_number",
                    ("service_date_from", "service_date_to"),
                    "place_of_service",
                    "frequency_code",
                    "total_charge",
                )
            },
        ),
        (
            "Decision",
            {
                "fields": (
                    "status",
                    "denial_carc",
                    "pend_reason_label",
                    "assignee",
                    ("allowed", "total_paid", "patient_responsibility"),
                    "edits",
                    ("processed_at", "processing_ms"),
                    "remittance_link",
                )
            },
        ),
        ("Adjudication by line", {"fields": ("adjudication_table",)}),
        ("Parties", {"fields": ("member", "health_plan", "billing_provider", "rendering_provider")}),
        ("Diagnoses", {"fields": ("diagnosis_code_system", "diagnoses_table", "code_check_errors")}),
        (
            "Related claim",
            {
                "fields": (
                    "related_claim",
                    "related_service_date_from",
                    "relation",
                    "payer_claim_control_number",
                )
            },
        ),
        ("Receipt", {"fields": ("batch_outcome", "received_at")}),
    )
    pii_fieldset = ("Member (PHI)", {"fields": ("member_pii",)})

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ClaimChangeList

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        # The member's name is PHI: without members.view_memberpii the column shows the member number.
        names = list(super().get_list_display(request))
        return names if can_see_pii(request) else ["member" if n == "member_name" else n for n in names]

    @admin.display(description="member")
    def member_name(self, obj: Claim) -> str:
        return f"{obj.member.last_name}, {obj.member.first_name}".strip(", ")

    def get_fieldsets(self, request: HttpRequest, obj: Claim | None = None) -> Any:
        if obj is None:
            return self.fieldsets
        pii = (self.pii_fieldset,) if can_see_pii(request) else ()
        return (*self.claim_fieldsets[:4], *pii, *self.claim_fieldsets[4:])

    def get_readonly_fields(self, request: HttpRequest, obj: Claim | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # A claim is a record of what the submitter sent (corrections arrive as replacement or void claims); its
        # decision changes only through the claim-lifecycle writer and the examiner services.
        return tuple(
            name
            for _, options in (*self.claim_fieldsets, self.pii_fieldset)
            for entry in options["fields"]
            for name in (entry if isinstance(entry, tuple) else (entry,))
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Claim | None:
        """The claim of ``object_id`` read from its month's partition only; None when there is none.

        By id alone (Django's ``get``) PostgreSQL plans and locks every month partition, since id is not the
        partition key (bench/results/2026-12-01-partitions-120.md: 8 ms and 2,001 locks at 120 months). The
        lookup row (``ClaimNumber``, primary key claim_id: one probe of a plain table) gives the month, and the
        claim is read by (id, service_date_from): one partition (PostgreSQL docs, "Partition Pruning"). A claim
        with no lookup row (one written by a tool that bypasses ingest) falls back to the read by id.
        """
        if from_field is None and str(object_id).isdigit():
            claim_id = int(object_id)
            month = (
                ClaimNumber.objects.filter(claim_id=claim_id)
                .values_list("service_date_from", flat=True)
                .first()
            )
            if month is not None:
                found = list(self.get_queryset(request).filter(pk=claim_id, service_date_from=month)[:1])
                if found:
                    return found[0]
        return super().get_object(request, object_id, from_field)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        token = _PAGE_REQUEST.set(request)
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        finally:
            _PAGE_REQUEST.reset(token)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Claim | None = None,
    ) -> HttpResponse:
        if (
            obj is not None
            and can_override(request)
            and obj.status in OVERRIDABLE
            and obj.remittance_id is None
        ):
            context["override_url"] = reverse("admin:claims_claim_override", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request: HttpRequest, obj: Claim, form: Any, change: bool) -> None:
        # An existing claim has no editable field: saving the page saves its lines only (the inline formset).
        # Writing the row back would overwrite a status another transaction set meanwhile.
        if not change:
            super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        urls = super().get_urls()
        if self.model is not Claim:
            return urls
        override = path(
            "<path:object_id>/override/",
            self.admin_site.admin_view(self.override_view),
            name="claims_claim_override",
        )
        return [override, *urls]

    def override_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A supervisor's override of one decided claim (claims.services.examiner.claims_override)."""
        if not can_override(request):
            raise PermissionDenied
        claim = self.get_object(request, object_id)
        if claim is None:
            raise Http404("no such claim")
        change_url = reverse("admin:claims_claim_change", args=[claim.pk])
        if request.method == "POST":
            form = OverrideForm(request.POST)
            if form.is_valid():
                seen = _parse_seen(form.cleaned_data["seen"])
                if seen is None or seen.id != claim.pk:
                    raise PermissionDenied  # a forged or mixed-up form: never act on another claim
                try:
                    claims_override(
                        claim=seen,
                        actor=request.user,
                        to_status=form.cleaned_data["to_status"],
                        reason=form.cleaned_data["reason"],
                        carc=form.cleaned_data["carc"],
                        rarc=form.cleaned_data["rarc"],
                    )
                except StatusConflict:
                    self.message_user(
                        request,
                        f"Claim {claim.claim_number} changed since the page was opened: nothing was changed. "
                        "Look at it again before overriding.",
                        messages.ERROR,
                    )
                    return HttpResponseRedirect(change_url)
                except ActionRefused as exc:
                    form.add_error(None, str(exc))
                else:
                    self._audit(request, AuditAction.CHANGE, claim.pk)
                    self.message_user(
                        request,
                        f"Claim {claim.claim_number}: {seen.status} overridden to {form.cleaned_data['to_status']}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
        else:
            if claim.status not in OVERRIDABLE:
                self.message_user(
                    request,
                    f"Claim {claim.claim_number} is {claim.status}: only decisions can be overridden.",
                )
                return HttpResponseRedirect(change_url)
            form = OverrideForm(
                initial={
                    "to_status": OVERRIDABLE[ClaimStatus(claim.status)],
                    "seen": _seen_token(claim),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Override the decision on claim {claim.claim_number}",
            "opts": self.opts,
            "claim": claim,
            "form": form,
            "change_url": change_url,
            "to_status": form["to_status"].value(),
        }
        return TemplateResponse(request, "admin/claims/claim/override.html", context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Claim], search_term: str
    ) -> tuple[QuerySet[Claim], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # A claim number is found in any month (its keys prune by themselves); a member's or provider's claims are
        # listed from the recent months unless a service month (or "all months") is chosen: what an examiner
        # looking up a member usually wants, and a bound the planner prunes by.
        # Only where the list offers the service-month filter (to choose older months with): the work queue lists
        # every pended claim, and its months bound it already.
        windowed_search = ServiceMonthFilter in self.get_list_filter(request)
        since = (
            recent_months_start()
            if windowed_search and ServiceMonthFilter.parameter_name not in request.GET
            else None
        )
        search = claim_search(term, since=since)
        if since is not None and (search.member_ids or search.provider_ids):
            self.message_user(
                request,
                f"Claims of the matching members and providers are listed from the last {RECENT_MONTHS} service "
                f'months (since {since:%Y-%m}); choose a service month, or "All months", for older ones.',
                messages.INFO,
            )
        if search.members_truncated:
            self.message_user(
                request,
                f"More than {SEARCH_ID_LIMIT} members match {term!r}: only the claims of the first "
                f"{SEARCH_ID_LIMIT} are listed. Type more of the name, or 'LAST, FIRST'.",
                messages.WARNING,
            )
        # One table, no joins: the filter can never produce duplicate rows.
        return queryset.filter(search.q), False

    def has_delete_permission(self, request: HttpRequest, obj: Claim | None = None) -> bool:
        return False


# --- the work queue --------------------------------------------------------------------------------------------

EXAMINE_PERMISSION = "claims.examine_claim"
OVERRIDE_PERMISSION = "claims.override_decision"
STAFF_GROUPS = ("claims examiners", "claims supervisors")
# A decided claim and the status a supervisor's override turns it into.
OVERRIDABLE = {ClaimStatus.APPROVED: ClaimStatus.DENIED, ClaimStatus.DENIED: ClaimStatus.APPROVED}
# Most claims one action decides: one transaction holds their row locks until it ends.
MAX_ACTED_ON = 500


def can_override(request: HttpRequest) -> bool:
    return request.user.has_perm(OVERRIDE_PERMISSION)


def _seen_token(claim: Claim) -> str:
    """id:service date:status, the claim as this page shows it (a hidden field; claims.services.examiner)."""
    return _token(SeenClaim(claim.pk, claim.service_date_from, claim.status))


def _token(seen: SeenClaim) -> str:
    return f"{seen.id}:{seen.service_date_from:%Y-%m-%d}:{seen.status}"


def _parse_seen(token: str) -> SeenClaim | None:
    try:
        claim_id, day, status = token.split(":")
        return SeenClaim(int(claim_id), dt.date.fromisoformat(day), status)
    except ValueError:
        return None


CARC_CHOICES = [("", "---------"), *((str(c.value), f"{c.value} — {c.label}") for c in Carc)]
_RARC_SHAPE = re.compile(r"(?:MA|M|N)\d{1,3}")


def _clean_rarc(value: str) -> str:
    value = value.strip().upper()
    if value and not _RARC_SHAPE.fullmatch(value):
        raise forms.ValidationError("A RARC is M, MA or N and up to three digits (M76, N257).")
    return value


class DenyForm(forms.Form):
    carc = forms.ChoiceField(
        label="CARC",
        choices=CARC_CHOICES,
        help_text="Claim adjustment reason code sent in the 835 (X12 CARC list).",
        error_messages={"required": "Choose the CARC that says why the claims are denied."},
    )
    rarc = forms.CharField(label="RARC (optional)", max_length=5, required=False, help_text="e.g. M76, N257")
    note = forms.CharField(max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_rarc(self) -> str:
        return _clean_rarc(self.cleaned_data["rarc"])


class PendForm(forms.Form):
    reason = forms.ChoiceField(choices=PendReason.choices, initial=PendReason.EXAMINER)
    note = forms.CharField(max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OverrideForm(forms.Form):
    to_status = forms.ChoiceField(
        choices=[(ClaimStatus.APPROVED, "approved"), (ClaimStatus.DENIED, "denied")], widget=forms.HiddenInput
    )
    seen = forms.CharField(widget=forms.HiddenInput)
    carc = forms.ChoiceField(label="CARC", choices=CARC_CHOICES, required=False)
    rarc = forms.CharField(label="RARC (optional)", max_length=5, required=False)
    reason = forms.CharField(
        max_length=180,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why (an appeal, a documented error). Kept in the status history; no patient details.",
    )

    def clean_rarc(self) -> str:
        return _clean_rarc(self.cleaned_data["rarc"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_status") == ClaimStatus.DENIED and not data.get("carc"):
            self.add_error("carc", "A denial needs a CARC.")
        return data


class WorkQueueChangeList(ClaimChangeList):
    """The queue lists pended claims only; its change pages show any claim (one decided a moment ago too)."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        # Pended claims are few and recent: their months (a few) bound the list, so it is planned over those
        # partitions only, whatever the number of months kept.
        queryset = super().get_queryset(request, exclude_parameters).filter(status=ClaimStatus.PENDED)
        return _in_months_holding(queryset, ClaimStatus.PENDED)


@admin.register(WorkQueueClaim)
class WorkQueueAdmin(ClaimAdmin):
    """Pended claims, oldest received first, and what an examiner does to them (claims.services.examiner).

    The list reads claim_work_queue_idx in its order (claim_pended_assignee_idx / claim_pended_reason_idx when
    filtered by assignee or pend reason) and never counts the table (EstimatedCountPaginator: a filtered list
    counts at most 10,001 rows). Each row carries the status the examiner sees in a hidden field, and every
    action acts on that status (compare-and-set): a claim that moved meanwhile changes nothing.
    """

    list_display = (
        "claim_number",
        "pend_reason_shown",
        "age_days",
        "assignee",
        "health_plan",
        "total_charge",
    )
    list_select_related = ("assignee", "health_plan")
    # Oldest first: claim_work_queue_idx (received_at, id) WHERE status IN (open statuses).
    ordering = ("received_at", "id")
    sortable_by = ("age_days",)
    list_filter = ("health_plan", PendReasonFilter, AssigneeFilter, AgeFilter)
    actions = ("assign_to_me", "approve", "deny", "pend", "readjudicate")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return WorkQueueChangeList

    @admin.display(description="pend reason")
    def pend_reason_shown(self, obj: Claim) -> SafeString:
        # The hidden field rides in this cell so the changelist form posts, with the selection, the status each
        # claim had when the page was drawn (the compare-and-set of every action).
        return format_html(
            '{}<input type="hidden" name="seen" value="{}">', _pend_label(obj.pend_reason), _seen_token(obj)
        )

    @admin.display(description="age (days)", ordering="-received_at")
    def age_days(self, obj: Claim) -> int:
        return (timezone.now() - obj.received_at).days

    def has_examine_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXAMINE_PERMISSION)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Django drops an action the user may not run and answers "no action selected"; a POST of one is an
        # attempt to act without the permission, and gets a plain 403.
        if request.method == "POST" and set(request.POST.getlist("action")) & set(self.actions):
            if not self.has_examine_permission(request):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)

    # -- what the examiner selected, as they saw it -------------------------------------------------------

    def _selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[SeenClaim] | None:
        """The selected claims with the status the page showed (its hidden fields); None (and a message) when
        there are more than MAX_ACTED_ON. With "select all" the rows not on the page are taken as the queue
        lists them: pended."""
        # Months come with the ids (the queue's own rows, or the claim-number lookup): every later read of the
        # claims is by (id, month), pruned to those months' partitions.
        months: dict[int, dt.date] = {}
        if request.POST.get("select_across") == "1":
            months = dict(queryset.values_list("pk", "service_date_from")[: MAX_ACTED_ON + 1])
            ids = list(months)
        else:
            ids = [int(i) for i in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if i.isdigit()]
        if len(ids) > MAX_ACTED_ON:
            self.message_user(request, f"Act on at most {MAX_ACTED_ON} claims at once.", messages.ERROR)
            return None
        shown = {s.id: s for s in map(_parse_seen, request.POST.getlist("seen")) if s is not None}
        unseen = [i for i in ids if i not in shown and i not in months]
        if unseen:
            months.update(
                ClaimNumber.objects.filter(claim_id__in=unseen).values_list("claim_id", "service_date_from")
            )
            # A claim with no lookup row (written by a tool that bypasses ingest): by id, in every month.
            missing = [i for i in unseen if i not in months]
            if missing:
                months.update(Claim.objects.filter(pk__in=missing).values_list("pk", "service_date_from"))
        shown.update(
            {pk: SeenClaim(pk, day, ClaimStatus.PENDED) for pk, day in months.items() if pk not in shown}
        )
        return [shown[i] for i in ids if i in shown]

    def _numbers(self, claim_ids: Sequence[int]) -> str:
        # From the claim-number lookup (a plain table), not the claims: by id alone those are read in every month.
        numbers = sorted(
            ClaimNumber.objects.filter(claim_id__in=list(claim_ids)).values_list("claim_number", flat=True)
        )
        more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
        return ", ".join(numbers[:10]) + more

    def _conflict(self, request: HttpRequest, exc: StatusConflict) -> None:
        self.message_user(
            request,
            f"Nothing was changed: claim(s) {self._numbers(exc.claim_ids)} changed since the page was opened "
            "(another examiner or a re-adjudication acted on them). Reload the queue and try again.",
            messages.ERROR,
        )

    def _audited(self, request: HttpRequest, seen: Sequence[SeenClaim]) -> None:
        for claim in seen:
            self._audit(request, AuditAction.CHANGE, claim.id)

    def _form_page(
        self, request: HttpRequest, *, action: str, title: str, form: forms.Form, seen: Sequence[SeenClaim]
    ) -> TemplateResponse:
        numbers = dict(
            ClaimNumber.objects.filter(claim_id__in=[s.id for s in seen]).values_list(
                "claim_id", "claim_number"
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "action": action,
            "form": form,
            "claims": [(s.id, numbers.get(s.id, s.id), _token(s)) for s in seen],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:claims_workqueueclaim_changelist"),
        }
        return TemplateResponse(request, "admin/claims/workqueueclaim/action_form.html", context)

    # -- the actions ------------------------------------------------------------------------------------------

    @admin.action(description="Assign to me", permissions=["examine"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        seen = self._selected(request, queryset)
        if not seen:
            return
        try:
            assigned = claims_assign(claims=seen, user=request.user)
        except StatusConflict as exc:
            return self._conflict(request, exc)
        self._audited(request, seen)
        self.message_user(request, f"Assigned {assigned} claim(s) to you.", messages.SUCCESS)

    @admin.action(description="Approve (price with the engine)", permissions=["examine"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        seen = self._selected(request, queryset)
        if not seen:
            return
        try:
            result = claims_approve(claims=seen, actor=request.user)
        except StatusConflict as exc:
            return self._conflict(request, exc)
        except ActionRefused as exc:
            return self.message_user(request, f"Nothing was changed: {exc}.", messages.ERROR)
        self._audited(request, seen)
        decided = result.decided
        self.message_user(
            request,
            f"Approved {decided[ClaimStatus.APPROVED]} claim(s), priced by the engine; "
            f"{decided[ClaimStatus.DENIED]} denied by its edits, {decided[ClaimStatus.PENDED]} pended again "
            "(no enrollment on file).",
            messages.SUCCESS if decided[ClaimStatus.APPROVED] == len(seen) else messages.WARNING,
        )

    @admin.action(description="Deny with a CARC…", permissions=["examine"])
    def deny(self, request: HttpRequest, queryset: QuerySet[Any]) -> TemplateResponse | None:
        seen = self._selected(request, queryset)
        if not seen:
            return None
        form = DenyForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            carc = form.cleaned_data["carc"]
            try:
                denied = claims_deny(
                    claims=seen,
                    actor=request.user,
                    carc=carc,
                    rarc=form.cleaned_data["rarc"],
                    note=form.cleaned_data["note"],
                )
            except StatusConflict as exc:
                self._conflict(request, exc)
                return None
            except ActionRefused as exc:
                form.add_error(None, str(exc))
            else:
                self._audited(request, seen)
                self.message_user(
                    request,
                    f"Denied {denied} claim(s) with CARC {carc} ({carc_description(carc)}).",
                    messages.SUCCESS,
                )
                return None
        return self._form_page(request, action="deny", title="Deny claims", form=form, seen=seen)

    @admin.action(description="Pend with a reason…", permissions=["examine"])
    def pend(self, request: HttpRequest, queryset: QuerySet[Any]) -> TemplateResponse | None:
        seen = self._selected(request, queryset)
        if not seen:
            return None
        form = PendForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            try:
                pended = claims_pend(
                    claims=seen, actor=request.user, reason=reason, note=form.cleaned_data["note"]
                )
            except StatusConflict as exc:
                self._conflict(request, exc)
                return None
            except ActionRefused as exc:
                form.add_error(None, str(exc))
            else:
                self._audited(request, seen)
                self.message_user(
                    request, f"Pended {pended} claim(s): {PendReason(reason).label}.", messages.SUCCESS
                )
                return None
        return self._form_page(request, action="pend", title="Pend claims", form=form, seen=seen)

    @admin.action(description="Re-adjudicate", permissions=["examine"])
    def readjudicate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        seen = self._selected(request, queryset)
        if not seen:
            return
        try:
            result = claims_readjudicate(
                claim_keys=[(s.id, s.service_date_from) for s in seen], actor=request.user
            )
        except StatusConflict as exc:
            return self._conflict(request, exc)
        self._audited(request, seen)
        decided = result.decided
        self.message_user(
            request,
            f"Re-adjudicated {result.claims} claim(s): {decided[ClaimStatus.APPROVED]} approved, "
            f"{decided[ClaimStatus.DENIED]} denied, {decided[ClaimStatus.PENDED]} pended.",
            messages.SUCCESS,
        )


@admin.register(ClaimLine)
class ClaimLineAdmin(LargeTableAdmin[ClaimLine]):
    """Lines across claims, mostly for lookups by procedure code; lines are added on their claim's page."""

    list_display = ("id", "claim_link", "line_number", "procedure_code", "charge", "units", "service_date")
    # The primary key (id, service_date_from) of every partition serves ORDER BY id DESC through a merge of
    # the partitions' index scans, newest lines first.
    ordering = ("-id",)
    sortable_by = ()
    search_fields = ("=procedure_code",)
    search_help_text = (
        "Claim number of the line's claim (any month), or procedure code (exact; the last "
        f"{RECENT_MONTHS} service months unless a service month is chosen)."
    )
    raw_id_fields = ("claim",)
    list_filter = (ServiceMonthFilter,)

    @admin.display(description="claim")
    def claim_link(self, obj: ClaimLine) -> SafeString:
        return _claim_link(obj.claim_id)

    def get_readonly_fields(self, request: HttpRequest, obj: ClaimLine | None = None) -> tuple[str, ...]:
        # The claim and partition key of a line are fixed by its claim (composite foreign key).
        return ("claim", "service_date_from") if obj is not None else ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ClaimLine], search_term: str
    ) -> tuple[QuerySet[ClaimLine], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        since = None if ServiceMonthFilter.parameter_name in request.GET else recent_months_start()
        return queryset.filter(claim_line_search_q(term, since=since)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ClaimLine | None = None) -> bool:
        return False


@admin.register(ClaimStatusHistory)
class ClaimStatusHistoryAdmin(LargeTableAdmin[ClaimStatusHistory]):
    """Status transitions across claims, read-only."""

    list_display = ("claim_link", "from_status", "to_status", "changed_at", "source", "changed_by")
    list_select_related = ("changed_by",)
    ordering = ("-changed_at", "-id")  # statushistory_at_idx
    sortable_by = ("changed_at",)
    list_filter = ("to_status", "from_status")
    search_fields = ("=claim__claim_number",)
    search_help_text = "Claim number."

    @admin.display(description="claim")
    def claim_link(self, obj: ClaimStatusHistory) -> SafeString:
        return _claim_link(obj.claim_id)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ClaimStatusHistory], search_term: str
    ) -> tuple[QuerySet[ClaimStatusHistory], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # claim_id IN (..) -> statushistory_claim_idx, instead of a join to every claims partition.
        return queryset.filter(claim_id__in=claim_ids_for_number(term)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ClaimStatusHistory | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ClaimStatusHistory | None = None) -> bool:
        return False


def _problems_table(items: Any) -> SafeString:
    """Render a batch's warning / error list (dicts with position, segment, element, message) as a table."""
    if not items:
        return format_html("<p>{}</p>", "None")
    if not isinstance(items, list):
        items = [items]
    shown = items[:PROBLEMS_SHOWN]
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                item.get("position", ""),
                item.get("segment", ""),
                item.get("element", ""),
                item.get("message", ""),
            )
            if isinstance(item, dict)
            else ("", "", "", item)
            for item in shown
        ),
    )
    more = (
        format_html("<p>… and {} more (not shown).</p>", len(items) - len(shown))
        if len(items) > len(shown)
        else ""
    )
    return format_html(
        "<table><thead><tr><th>Segment #</th><th>Segment</th><th>Element</th><th>Message</th></tr></thead>"
        "<tbody>{}</tbody></table>{}",
        rows,
        more,
    )


class _BatchChangeList(IndexOrderedChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        # The list never shows the problem lists or the 999, which can run to megabytes per batch.
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .defer("warnings", "errors", "validation_errors", "ack_999")
        )


@admin.register(IngestBatch)
class IngestBatchAdmin(TypedModelAdmin[IngestBatch]):
    """Read-only record of each 837P file: what was loaded, what was wrong, and the 999 acknowledgment."""

    list_display = (
        "file_name",
        "status",
        "validation_status",
        "claim_count",
        "line_count",
        "warning_count",
        "total_charge",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "validation_status")
    # One row per file received: a small table, Django's own search is fine here.
    search_fields = ("file_name", "=sha256")
    ordering = ("-started_at", "-id")  # ingestbatch_started_idx
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "file_name",
                    "sha256",
                    "size_bytes",
                    "status",
                    "started_at",
                    "finished_at",
                    "claims_link",
                )
            },
        ),
        (
            "Counts",
            {
                "fields": (
                    ("interchange_count", "transaction_count"),
                    ("claim_count", "line_count"),
                    "total_charge",
                    "warning_count",
                )
            },
        ),
        ("Warnings and errors", {"fields": ("warnings_table", "errors_table")}),
        (
            "Implementation guide validation",
            {"fields": ("validation_status", "validated_at", "validation_errors_table", "ack_999_text")},
        ),
    )
    readonly_fields = (
        "warnings_table",
        "errors_table",
        "validation_errors_table",
        "ack_999_text",
        "claims_link",
    )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _BatchChangeList

    @admin.display(description="claims")
    def claims_link(self, obj: IngestBatch) -> SafeString:
        # The claims list filtered by this batch (BatchFilter, claim_batch_idx); the count is the batch's own,
        # recorded at ingest, not a COUNT over the claims.
        # Every service month: a batch's claims can be of any month, and nothing records which (yet).
        url = (
            reverse("admin:claims_claim_changelist")
            + f"?{BatchFilter.parameter_name}={obj.pk}&{ServiceMonthFilter.parameter_name}={ALL_MONTHS}"
        )
        return format_html(
            '<a href="{}" class="batch-claims">The {} claims of this batch</a>', url, obj.claim_count
        )

    @admin.display(description="warnings")
    def warnings_table(self, obj: IngestBatch) -> SafeString:
        return _problems_table(obj.warnings)

    @admin.display(description="errors")
    def errors_table(self, obj: IngestBatch) -> SafeString:
        return _problems_table(obj.errors)

    @admin.display(description="validation errors")
    def validation_errors_table(self, obj: IngestBatch) -> SafeString:
        return _problems_table(obj.validation_errors)

    @admin.display(description="999 acknowledgment")
    def ack_999_text(self, obj: IngestBatch) -> SafeString:
        if not obj.ack_999:
            return format_html("<p>{}</p>", "Not generated yet")
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.ack_999)

    # Batches are written by the ingest service only; a batch that loaded claims is protected by them anyway.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IngestBatch | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IngestBatch | None = None) -> bool:
        return False


@admin.register(AdjudicationRun)
class AdjudicationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "trigger",
        "batch",
        "claims",
        "approved",
        "denied",
        "pended",
        "duration_ms",
        "outcome",
    )
    list_filter = ("outcome", "dry_run")
    ordering = ("-started_at",)  # adjudicationrun_started_idx
    sortable_by = ("started_at",)
    raw_id_fields = ("batch",)


@admin.register(ClaimAdjustment)
class ClaimAdjustmentAdmin(ReadOnlyAdmin):
    """Claim adjustments (CAS) by claim: written by adjudication only; searched by claim id."""

    list_display = ("claim_id", "line_number", "group_code", "carc", "rarc", "amount")
    list_filter = ("group_code",)
    ordering = ("-id",)
    sortable_by = ()
    search_fields = ("=claim__id",)
    raw_id_fields = ("claim",)


@admin.register(ClaimMonthCount)
class ClaimMonthCountAdmin(ReadOnlyAdmin):
    """The months each claim state is in, as the delta rows the lifecycle writer appends (read-only)."""

    list_display = ("state", "month", "claims")
    list_filter = ("state",)
    ordering = ("state", "month", "id")


@admin.register(ClaimNumber)
class ClaimNumberAdmin(ReadOnlyAdmin):
    """Where a claim number is: (billing provider, CLM01) -> (claim id, month). Searched by exact claim number,
    one probe of a small table whatever the number of month partitions; written by ingest only."""

    list_display = ("claim_number", "billing_provider_id", "claim_id", "service_date_from")
    ordering = ("-claim_id",)
    sortable_by = ()
    search_fields = ("=claim_number",)


@admin.register(RemittanceRun)
class RemittanceRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "payment_date", "payees", "claims", "total_paid", "outcome")
    list_filter = ("outcome",)
    ordering = ("-started_at",)
    sortable_by = ("started_at",)


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "payee", "trace_number", "claims", "paid", "size_bytes")
    ordering = ("-id",)
    sortable_by = ()
    raw_id_fields = ("payee", "run")
    exclude = ("content",)
