"""JSON endpoints, one per chart, under /analytics/api/ (same access rule and parameters as the pages).

Each answer is cached in Redis until a view it reads refreshes (analytics/cache.py). Every answer carries
``data_as_of`` (ISO 8601, UTC, or null). Number formats (analytics.formatting): money is
a string with exactly two decimals ("1234.50"), rates are fractions 0..1 with 4 decimals, counts integers,
times seconds. ECharts draws them after ``Number()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from analytics import formatting as fmt
from analytics import selectors
from analytics.access import analyst_required
from analytics.cache import cached_json
from analytics.forms import (
    Icd10Form,
    MonthRangeForm,
    OverviewForm,
    PlanMonthRangeForm,
    ProviderForm,
    QuarterParamForm,
    ReportForm,
)
from analytics.params import (
    Icd10Params,
    failed_params,
    flow_params,
    icd10_params,
    overview_params,
    plan_params,
    provider_params,
    report_params,
    today,
)
from analytics.periods import Period

# Bars in a chart: more would not be readable; the tables beside the charts list everything.
TOP_ITEMS = 15
TOP_SERIES = 5
TOP_PROVIDERS = 10


def _json(data: dict[str, Any], sources: Iterable[type[models.Model]]) -> JsonResponse:
    as_of = selectors.view_freshness(sources)
    return JsonResponse({"data_as_of": as_of.isoformat() if as_of else None, **data})


def _invalid(form: forms.Form) -> JsonResponse:
    return JsonResponse({"errors": form.errors.get_json_data()}, status=400)


def totals_json(t: selectors.Totals) -> dict[str, Any]:
    return {
        "claims": t.claims,
        "billed": fmt.json_money(t.billed),
        "paid": fmt.json_money(t.paid),
        "approved": t.approved,
        "denied": t.denied,
        "pended": t.pended,
        "approval_rate": fmt.json_rate(t.approval_rate),
        "denial_rate": fmt.json_rate(t.denial_rate),
        "processed": t.processed,
        "mean_processing_seconds": fmt.json_seconds(t.mean_processing_seconds),
    }


@analyst_required
@cached_json(selectors.OVERVIEW_SOURCES)
def overview_daily(request: HttpRequest) -> HttpResponse:
    """Claims, billed and paid per service day over both windows, and both windows' KPIs."""
    form = OverviewForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = overview_params(form, today=today())
    data = selectors.overview(end=params.end, today=today())
    days = selectors.claims_by_day(Period(data.previous_period.start, data.period.end))
    return _json(
        {
            "period": fmt.json_period(data.period),
            "previous_period": fmt.json_period(data.previous_period),
            "days": [d.day.isoformat() for d in days],
            "claims": [d.claims for d in days],
            "approved": [d.approved for d in days],
            "denied": [d.denied for d in days],
            "billed": [fmt.json_money(d.billed) for d in days],
            "paid": [fmt.json_money(d.paid) for d in days],
            "kpis": {
                "current": {
                    **totals_json(data.current),
                    "queue_depth": data.queue_depth,
                    "queue_day": data.queue_day.isoformat(),
                },
                "previous": {
                    **totals_json(data.previous),
                    "queue_depth": data.previous_queue_depth,
                    "queue_day": data.previous_queue_day.isoformat(),
                },
            },
        },
        selectors.OVERVIEW_SOURCES,
    )


def _icd10_rows(request: HttpRequest) -> tuple[Icd10Params, list[selectors.DiagnosisRow]] | JsonResponse:
    form = Icd10Form(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = icd10_params(form, today=today())
    plan_id = None if params.plan is None else params.plan.pk
    rows = selectors.diagnosis_rows(months=params.months, plan_id=plan_id, level=params.level)
    if not request.user.has_perm(selectors.SMALL_CELLS_PERMISSION):
        rows = selectors.small_cells_suppress(rows, months=params.months, plan_id=plan_id, level=params.level)
    return params, rows


@analyst_required
@cached_json(selectors.DIAGNOSIS_SOURCES)
def icd10_breakdown(request: HttpRequest) -> HttpResponse:
    """The level's chapters, blocks or codes with the most claims, each with the link one level down."""
    found = _icd10_rows(request)
    if isinstance(found, JsonResponse):
        return found
    params, rows = found
    level = params.level
    page = reverse("analytics:icd10")

    def drill(key: str) -> str | None:
        if level.lists == "chapter":
            return f"{page}?{urlencode({**params.filters(), 'chapter': key})}"
        if level.lists == "block":
            return f"{page}?{urlencode({**params.filters(), 'chapter': level.chapter, 'block': key})}"
        return None

    # Suppressed rows are left out: their rank among the top would tell their size.
    top = sorted((r for r in rows if not r.suppressed), key=lambda r: (-(r.claims or 0), r.key))[:TOP_ITEMS]
    return _json(
        {
            "level": level.lists,
            "suppressed_rows": sum(r.suppressed for r in rows),
            "months": {"first": f"{params.months.first:%Y-%m}", "last": f"{params.months.last:%Y-%m}"},
            "rows": [
                {
                    "key": r.key,
                    "title": r.title,
                    "patient_months": r.patient_months,
                    "claims": r.claims,
                    "billed": fmt.json_money(r.billed),
                    "average_charge": fmt.json_money(r.average_charge),
                    "href": drill(r.key),
                }
                for r in top
            ],
        },
        selectors.DIAGNOSIS_SOURCES,
    )


@analyst_required
@cached_json(selectors.DIAGNOSIS_SOURCES)
def icd10_monthly(request: HttpRequest) -> HttpResponse:
    """Distinct patients per month for the level's items with the most claims."""
    found = _icd10_rows(request)
    if isinstance(found, JsonResponse):
        return found
    params, rows = found
    top = sorted((r for r in rows if not r.suppressed), key=lambda r: (-(r.claims or 0), r.key))[:TOP_SERIES]
    series = selectors.diagnosis_patients_by_month(
        months=params.months,
        plan_id=None if params.plan is None else params.plan.pk,
        level=params.level,
        keys=[r.key for r in top],
    )
    if not request.user.has_perm(selectors.SMALL_CELLS_PERMISSION):
        series = selectors.small_months_suppress(series)
    return _json(
        {
            "level": params.level.lists,
            "months": [f"{m:%Y-%m}" for m in series.months],
            "series": [{"key": r.key, "title": r.title, "patients": series.series[r.key]} for r in top],
        },
        selectors.DIAGNOSIS_SOURCES,
    )


@analyst_required
@cached_json(selectors.PLAN_SOURCES)
def plans(request: HttpRequest) -> HttpResponse:
    """Per plan, the quarter and the one before."""
    form = QuarterParamForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = plan_params(form, today=today())
    rows = selectors.plan_comparison(quarter=params.quarter)
    return _json(
        {
            "quarter": str(params.quarter),
            "previous_quarter": str(params.quarter.previous()),
            "plans": [
                {
                    "plan_id": r.plan_id,
                    "plan": r.plan_name,
                    "current": totals_json(r.current),
                    "previous": totals_json(r.previous),
                }
                for r in rows
            ],
        },
        selectors.PLAN_SOURCES,
    )


@analyst_required
@cached_json(selectors.PROVIDER_SOURCES)
def top_providers(request: HttpRequest) -> HttpResponse:
    """The month's providers with the most paid."""
    form = ProviderForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = provider_params(form, today=today())
    rows = selectors.provider_rows(
        selectors.provider_performance(month=params.month, sort="-paid")[:TOP_PROVIDERS]
    )
    return _json(
        {
            "month": f"{params.month:%Y-%m}",
            "providers": [
                {
                    "provider_id": r.provider_id,
                    "npi": r.npi,
                    "name": r.name,
                    "claims": r.claims,
                    "billed": fmt.json_money(r.billed),
                    "paid": fmt.json_money(r.paid),
                    "rvus": fmt.json_money(r.rvus),
                    "approval_rate": fmt.json_rate(r.approval_rate),
                }
                for r in rows
            ],
        },
        selectors.PROVIDER_SOURCES,
    )


@analyst_required
@cached_json(selectors.FLOW_SOURCES)
def flow_sankey(request: HttpRequest) -> HttpResponse:
    """Status transitions as an acyclic Sankey graph (``selectors.sankey_graph`` says how)."""
    form = MonthRangeForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = flow_params(form, today=today())
    graph = selectors.sankey_graph(selectors.status_transitions(months=params.months))
    return _json(
        {
            "months": {"first": f"{params.months.first:%Y-%m}", "last": f"{params.months.last:%Y-%m}"},
            "nodes": [{"name": name} for name in graph.nodes],
            "links": [{"source": k.source, "target": k.target, "value": k.value} for k in graph.links],
            "self_loops": graph.self_loops,
            "revisits": graph.revisits,
            "total": graph.total,
        },
        selectors.FLOW_SOURCES,
    )


@analyst_required
@cached_json(selectors.FAILED_SOURCES)
def failed_monthly(request: HttpRequest) -> HttpResponse:
    """Failed claims (files, for rejected files) per month and kind."""
    form = PlanMonthRangeForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = failed_params(form, today=today())
    series = selectors.failed_by_month(
        months=params.months, plan_id=None if params.plan is None else params.plan.pk
    )
    return _json(
        {
            "months": [f"{m:%Y-%m}" for m in series.months],
            "series": [
                {"kind": kind, "label": selectors.FAILED_KINDS[kind], "counts": counts}
                for kind, counts in series.series.items()
            ],
        },
        selectors.FAILED_SOURCES,
    )


@analyst_required
@cached_json(selectors.FAILED_SOURCES)
def failed_carc(request: HttpRequest) -> HttpResponse:
    """Denied claims by CARC over the months."""
    form = PlanMonthRangeForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = failed_params(form, today=today())
    failed = selectors.failed_claims(
        months=params.months, plan_id=None if params.plan is None else params.plan.pk
    )
    return _json(
        {
            "rows": [
                {
                    "carc": r.reason,
                    "description": r.label,
                    "claims": r.claims,
                    "billed": fmt.json_money(r.billed),
                }
                for r in failed.denials[:TOP_ITEMS]
            ]
        },
        selectors.FAILED_SOURCES,
    )


@analyst_required
@cached_json(selectors.REPORT_SOURCES)
def report_plans(request: HttpRequest) -> HttpResponse:
    """The monthly report's per-plan figures and the all-plans row."""
    form = ReportForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    params = report_params(form, today=today())
    report = selectors.monthly_report(month=params.month, plan_id=params.plan_id)

    def row(r: selectors.ReportRow) -> dict[str, Any]:
        return {
            "plan_id": r.plan_id,
            "plan": r.plan_name,
            **totals_json(r.totals),
            "rvus": fmt.json_money(r.rvus),
            "code_check_claims": r.code_check_claims,
        }

    return _json(
        {
            "month": f"{params.month:%Y-%m}",
            "plans": [row(r) for r in report.plans],
            "all_plans": row(report.all_plans),
            "queue_depth_end": report.queue_depth_end,
        },
        selectors.REPORT_SOURCES,
    )
