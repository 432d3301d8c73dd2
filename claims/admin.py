"""Claims admin, built for 10 million claims: no full counts, index-only ordering and searches.

See ops/platform/paginators.py for the count and ordering rules and claims/selectors.py for how a search term is
resolved to indexed lookups. Claims, lines and status history cannot be deleted here: a claim is a record of
what a submitter sent (corrections arrive as replacement or void claims, CLM05-3 = 7 / 8), and the composite
foreign key from the lines would reject the delete at commit anyway.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import DateTimeField, ExpressionWrapper, F, Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from claims.models import Claim, ClaimLine, ClaimStatusHistory, IngestBatch
from claims.selectors import claim_ids_for_number, claim_line_search_q, claim_search
from ops.platform.audit import AuditedAdminMixin
from ops.platform.paginators import SEARCH_ID_LIMIT, IndexOrderedChangeList, LargeTableAdmin, TypedModelAdmin

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
    no index provides makes it find the matches through their own indexes (claim_number_upper_idx,
    claim_member_history_idx, ...) and sort just those, so a search costs what it matches, not the table size.
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
        "paid",
        "service_date",
        "service_date_to",
    )
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


@admin.register(Claim)
class ClaimAdmin(AuditedAdminMixin, LargeTableAdmin[Claim]):
    list_display = (
        "claim_number",
        "service_date_from",
        "member",
        "billing_provider",
        "health_plan",
        "status",
        "frequency_code",
        "total_charge",
        "received_at",
    )
    list_select_related = ("member", "billing_provider", "health_plan")
    # claim_received_idx is (-received_at, -id); IndexOrderedChangeList keeps id in step when sorted ascending.
    ordering = ("-received_at", "-id")
    sortable_by = ("received_at",)
    # status and frequency_code filters take their choices from the model (no query); see PlaceOfServiceFilter.
    list_filter = ("status", "frequency_code", PlaceOfServiceFilter)
    # Non-empty so the search box shows; get_search_results does the actual work.
    search_fields = ("=claim_number",)
    search_help_text = (
        "Claim number, member number, member last-name prefix ('SMITH' or 'SMITH, JO') or a 10-digit NPI "
        "(billing or rendering)."
    )
    autocomplete_fields = ("member", "health_plan", "billing_provider", "rendering_provider")
    raw_id_fields = ("batch", "related_claim")
    inlines = (ClaimLineInline, ClaimStatusHistoryInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "claim_number",
                    ("service_date_from", "service_date_to"),
                    "place_of_service",
                    "frequency_code",
                    ("status", "denial_reason_code"),
                )
            },
        ),
        ("Parties", {"fields": ("member", "health_plan", "billing_provider", "rendering_provider")}),
        ("Amounts (dollars)", {"fields": (("total_charge", "total_paid"),)}),
        ("Diagnoses", {"fields": ("diagnosis_code_system", "diagnosis_codes", "code_check_errors")}),
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
        ("Receipt", {"fields": ("batch", "received_at", "processed_at")}),
    )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ClaimChangeList

    def get_readonly_fields(self, request: HttpRequest, obj: Claim | None = None) -> tuple[str, ...]:
        # Status and the decision that goes with it change only through the claim-lifecycle writer
        # (claims.services.lifecycle: compare-and-set and a history row); an edit form would bypass both.
        decision = ("status", "denial_reason_code", "total_paid", "processed_at")
        if obj is None:
            return decision
        # Changing the partition key would move the claim to another month's partition and leave its lines
        # behind (their composite foreign key would then fail at commit).
        return ("service_date_from", *decision)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Claim], search_term: str
    ) -> tuple[QuerySet[Claim], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        search = claim_search(term)
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


@admin.register(ClaimLine)
class ClaimLineAdmin(LargeTableAdmin[ClaimLine]):
    """Lines across claims, mostly for lookups by procedure code; lines are added on their claim's page."""

    list_display = ("id", "claim_link", "line_number", "procedure_code", "charge", "units", "service_date")
    # The primary key (id, service_date_from) of every partition serves ORDER BY id DESC through a merge of
    # the partitions' index scans, newest lines first.
    ordering = ("-id",)
    sortable_by = ()
    search_fields = ("=procedure_code",)
    search_help_text = "Claim number of the line's claim, or procedure code (exact)."
    raw_id_fields = ("claim",)

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
        return queryset.filter(claim_line_search_q(term)), False

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
        (None, {"fields": ("file_name", "sha256", "size_bytes", "status", "started_at", "finished_at")}),
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
    readonly_fields = ("warnings_table", "errors_table", "validation_errors_table", "ack_999_text")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _BatchChangeList

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
