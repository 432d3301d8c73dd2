"""Reads for the analytics pages: typed rows and QuerySets over the materialized views and summary tables.

Only those: never the claim tables (``claims_claim``, ``claims_claimline``, the status history). The page tests
capture every query a page and a JSON endpoint runs and fail on one that names a claim table. Joins to small
reference tables (health plans, providers, the ICD-10-CM code set, the refresh log) are fine.

One module per page family (``overview``, ``icd10``, ``plans``, ``providers``, ``flow``, ``failed``,
``report``), the shapes and helpers they share in ``common``. Each family names the views and summary tables
it reads (``*_SOURCES``, collected in ``PAGE_SOURCES``): a page's "data as of" comes from them, and the
after-batch refresh (analytics.services.refresh.REFRESHED_AFTER_BATCH) covers every view among them. This
package re-exports the public names, so ``from analytics import selectors`` reaches all of them.

Units: money is ``Decimal`` dollars (cents exact); rates are fractions 0..1 of all claims in the group, None
when there are no claims; processing times are seconds. Dates are service dates unless a name says otherwise
(the queue depth and status flow are counted by the day of the status change, as their views are).
"""

from __future__ import annotations

from django.db import models

from analytics.selectors.common import (
    CENT,
    ZERO,
    Kpi,
    KpiUnit,
    MonthlySeries,
    Totals,
    health_plans,
    latest_complete_month,
    latest_day,
    latest_month,
    queue_depth_at,
    sources_refreshed,
    view_freshness,
)
from analytics.selectors.failed import (
    FAILED_KINDS,
    FAILED_SOURCES,
    FailedClaims,
    ReasonRow,
    failed_by_month,
    failed_claims,
)
from analytics.selectors.flow import (
    FLOW_SOURCES,
    NEW,
    STAGES,
    Sankey,
    SankeyLink,
    Transition,
    sankey_graph,
    status_transitions,
)
from analytics.selectors.icd10 import (
    DIAGNOSIS_SOURCES,
    SMALL_CELL_MIN,
    SMALL_CELLS_PERMISSION,
    UNKNOWN_CHAPTER,
    DiagnosisLevel,
    DiagnosisRow,
    block_title,
    chapter_title,
    diagnosis_patients_by_month,
    diagnosis_rows,
    small_cells_suppress,
    small_months_suppress,
)
from analytics.selectors.overview import (
    OVERVIEW_SOURCES,
    DayRow,
    Overview,
    claims_by_day,
    overview,
    overview_end,
)
from analytics.selectors.plans import PLAN_SOURCES, PlanComparisonRow, default_quarter, plan_comparison
from analytics.selectors.providers import (
    PROVIDER_DEFAULT_SORT,
    PROVIDER_SORTS,
    PROVIDER_SOURCES,
    ProviderRow,
    provider_performance,
    provider_rows,
)
from analytics.selectors.report import REPORT_SOURCES, MonthlyReport, ReportRow, monthly_report

# The views and summary tables each page family reads (its exports and JSON endpoints read the same).
PAGE_SOURCES: dict[str, tuple[type[models.Model], ...]] = {
    "overview": OVERVIEW_SOURCES,
    "icd10": DIAGNOSIS_SOURCES,
    "plans": PLAN_SOURCES,
    "providers": PROVIDER_SOURCES,
    "flow": FLOW_SOURCES,
    "failed": FAILED_SOURCES,
    "report": REPORT_SOURCES,
}

__all__ = [
    "CENT",
    "DIAGNOSIS_SOURCES",
    "FAILED_KINDS",
    "FAILED_SOURCES",
    "FLOW_SOURCES",
    "NEW",
    "OVERVIEW_SOURCES",
    "PAGE_SOURCES",
    "PLAN_SOURCES",
    "PROVIDER_DEFAULT_SORT",
    "PROVIDER_SORTS",
    "PROVIDER_SOURCES",
    "REPORT_SOURCES",
    "STAGES",
    "UNKNOWN_CHAPTER",
    "ZERO",
    "DayRow",
    "DiagnosisLevel",
    "DiagnosisRow",
    "FailedClaims",
    "Kpi",
    "KpiUnit",
    "MonthlyReport",
    "MonthlySeries",
    "Overview",
    "PlanComparisonRow",
    "ProviderRow",
    "ReasonRow",
    "ReportRow",
    "Sankey",
    "SankeyLink",
    "Totals",
    "Transition",
    "block_title",
    "chapter_title",
    "claims_by_day",
    "default_quarter",
    "diagnosis_patients_by_month",
    "small_cells_suppress",
    "small_months_suppress",
    "SMALL_CELL_MIN",
    "SMALL_CELLS_PERMISSION",
    "diagnosis_rows",
    "failed_by_month",
    "failed_claims",
    "health_plans",
    "latest_complete_month",
    "latest_day",
    "latest_month",
    "monthly_report",
    "overview",
    "overview_end",
    "plan_comparison",
    "provider_performance",
    "provider_rows",
    "queue_depth_at",
    "sankey_graph",
    "sources_refreshed",
    "status_transitions",
    "view_freshness",
]
