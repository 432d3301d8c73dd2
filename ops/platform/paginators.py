"""Admin pieces for tables too big to count: an estimated-count paginator and index-friendly ordering.

At 10 million claims a changelist's ``SELECT COUNT(*)`` reads every partition, and Django's admin runs it on
every page view (twice, with ``show_full_result_count``). The planner's statistics already know the table size
to within a few percent, so an unfiltered list shows that estimate, and a filtered or searched list counts at
most ``EXACT_COUNT_LIMIT + 1`` rows (healthchecks' ``PingsPaginator`` does the same for its pings table).

Shared by the members, providers, claims and ops admins: part of the floor (ops.platform), below every app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

# Above this many rows an unfiltered list trusts the statistics; a filtered list counts no further than this.
# 10,000 rows are counted in a few milliseconds from any index, and 100 pages of 100 is more than anyone pages.
EXACT_COUNT_LIMIT = 10_000

# Most member ids a search resolves to before filtering claims by them: a one-letter name prefix matches a
# tenth of all members, and "member_id IN (...)" probes claim_member_history_idx once per id and partition.
# Measured at 2 million claims: 200 ids keep the planner on the indexes (bitmap scans, ~40 ms); at 500 it
# switches to a parallel sequential scan of every partition (~0.8 s). A list of 100 claims needs no more.
SEARCH_ID_LIMIT = 100

_M = TypeVar("_M", bound=models.Model)

# reltuples of a partitioned parent is only set by a manual ANALYZE of the parent (autovacuum never analyzes
# partitioned tables), so the parent's own figure is stale or -1: sum the leaf partitions instead, found by
# walking pg_inherits (nested partitions included). A plain table is its own single leaf.
# reltuples = -1 means "never vacuumed or analyzed" (PostgreSQL 14+); such a leaf counts as 0 rows here.
_ESTIMATE_SQL = """
WITH RECURSIVE tree(relid) AS (
    SELECT %s::regclass::oid
    UNION ALL
    SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid
)
SELECT
    COALESCE(SUM(GREATEST(c.reltuples, 0)::float8), 0)::bigint,
    COUNT(*),
    COUNT(*) FILTER (WHERE c.reltuples < 0)
FROM tree
JOIN pg_class c ON c.oid = tree.relid
WHERE c.relkind <> 'p'
"""


class TableSizeEstimate(NamedTuple):
    """Row estimate of a table from ``pg_class.reltuples``, summed over its leaf partitions."""

    rows: int
    leaves: int  # tables summed: the partitions of a partitioned table, or 1 for a plain table
    unanalyzed: int  # leaves never analyzed (reltuples = -1), counted as 0 rows


def estimated_row_count(model: type[models.Model], *, using: str = "default") -> TableSizeEstimate:
    """Estimated row count of ``model``'s table from the planner statistics, with no table scan.

    The table name comes from the model (never user input) and is passed as a query parameter cast to
    ``regclass``. Source: PostgreSQL docs, "pg_class" (reltuples) and "pg_inherits" catalogs.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_ESTIMATE_SQL, [connection.ops.quote_name(model._meta.db_table)])
        rows, leaves, unanalyzed = cursor.fetchone()
    return TableSizeEstimate(rows=int(rows), leaves=int(leaves), unanalyzed=int(unanalyzed))


def _is_unfiltered(queryset: QuerySet[Any]) -> bool:
    """True when the queryset would return every row of its table (no WHERE, no DISTINCT, no set operation)."""
    query = queryset.query
    return not query.where and not query.distinct and not query.combinator and not query.is_sliced


class EstimatedCountPaginator(Paginator):
    """Paginator whose ``count`` never reads a whole big table.

    * Unfiltered queryset, statistics say more than ``exact_count_limit`` rows: the estimate, flagged with
      ``count_is_estimate``.
    * Otherwise (filtered, or a small or never-analyzed table): an exact count of at most
      ``exact_count_limit + 1`` rows. Past the limit the count is reported as the limit, flagged with
      ``count_is_capped``, and pages after it are not offered.

    Never under-reporting matters: the admin loads the whole unsliced queryset when the count says it fits
    on one page, so a never-analyzed 10-million-row table must not be taken for an empty one.
    """

    exact_count_limit = EXACT_COUNT_LIMIT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_is_estimate = False
        self.count_is_capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if _is_unfiltered(queryset):
            estimate = estimated_row_count(queryset.model, using=queryset.db)
            if estimate.rows > self.exact_count_limit:
                self.count_is_estimate = True
                return estimate.rows
        # ORDER BY dropped: with a LIMIT inside the count, an ORDER BY would make PostgreSQL sort every match.
        counted = queryset.order_by().values("pk")[: self.exact_count_limit + 1].count()
        if counted > self.exact_count_limit:
            self.count_is_capped = True
            return self.exact_count_limit
        return counted

    @property
    def count_formatted(self) -> str:
        """The count with thousands separators, for the pagination template (humanize is not installed)."""
        return f"{self.count:,}"


class IndexOrderedChangeList(ChangeList):
    """Changelist whose primary-key tie-breaker follows the direction of the leading sort key.

    Django appends ``-pk`` to any ordering without a unique column, so sorting a column ascending gives
    ``ORDER BY received_at ASC, id DESC``, which no index serves: PostgreSQL would sort the whole table.
    ``ORDER BY received_at ASC, id ASC`` is a backward scan of the ``(-received_at, -id)`` index.
    """

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[Any]:
        # The tie-breaker is either Django's appended "-pk" or the admin's own ordering ("-received_at", "-id"),
        # which Django keeps after a column the user clicked.
        ordering = list(super().get_ordering(request, queryset))
        pk_names = {"pk", self.lookup_opts.pk.name, self.lookup_opts.pk.attname}
        first, last = (ordering[0], ordering[-1]) if ordering else (None, None)
        if (
            len(ordering) >= 2
            and isinstance(first, str)
            and isinstance(last, str)
            and first.lstrip("-") not in pk_names
            and last.lstrip("-") in pk_names
        ):
            ordering[-1] = "-pk" if first.startswith("-") else "pk"
        return ordering


if TYPE_CHECKING:
    TypedModelAdmin = admin.ModelAdmin
else:

    class TypedModelAdmin(admin.ModelAdmin):
        """``admin.ModelAdmin`` that accepts ``TypedModelAdmin[Model]`` at runtime too.

        django-stubs types ModelAdmin as generic, Django 5.2's class is not subscriptable; this does locally
        what ``django_stubs_ext.monkeypatch()`` would do globally.
        """

        def __class_getitem__(cls, item: Any) -> type:
            return cls


class LargeTableAdmin(TypedModelAdmin[_M]):
    """Base admin for tables with millions of rows: no full counts, no facet counts, index-ordered lists.

    Subclasses must still order only on indexed columns (``ordering`` and ``sortable_by``) and search only
    through indexed lookups.
    """

    paginator = EstimatedCountPaginator
    # The "N total" next to search results is an unfiltered COUNT(*) of the whole table.
    show_full_result_count = False
    # Facet counts run one COUNT per filter choice over the filtered table.
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return IndexOrderedChangeList


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A log's admin: listed and shown, never added, changed or deleted here (the services write it)."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
