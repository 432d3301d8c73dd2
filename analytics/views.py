"""The analytics pages and the monthly report's CSV and PDF exports.

Thin: a form checks the query, ``analytics.params`` fills the defaults, selectors read the views and summary
tables, a template renders. Charts are drawn in the browser from the JSON endpoints in ``analytics.api``.
Every page says "data as of" the last successful refresh of the sources it reads (``view_freshness``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from analytics import exports, selectors
from analytics.access import analyst_required
from analytics.forms import (
    Icd10Form,
    MonthRangeForm,
    OverviewForm,
    PlanMonthRangeForm,
    ProviderForm,
    QuarterForm,
    ReportForm,
    quarters_back,
)
from analytics.models import PlanDailyTotals
from analytics.params import (
    failed_params,
    flow_params,
    icd10_params,
    overview_params,
    plan_params,
    provider_params,
    report_params,
    today,
)
from analytics.periods import Quarter
from ops.platform.audit import audit_record

PROVIDERS_PER_PAGE = 25
# Provider columns: (sort key, heading, first click sorts descending). Keys are selectors.PROVIDER_SORTS'.
PROVIDER_COLUMNS = (
    ("provider", "Provider", False),
    ("npi", "NPI", False),
    ("claims", "Claims", True),
    ("approval_rate", "Approval rate", True),
    ("denial_rate", "Denial rate", True),
    ("billed", "Billed", True),
    ("paid", "Paid", True),
    ("rvus", "RVUs", True),
)


def bad_request(form: forms.Form) -> HttpResponse:
    return HttpResponseBadRequest(f"Invalid parameters:\n{form.errors.as_text()}", content_type="text/plain")


def _page(
    request: HttpRequest,
    template: str,
    *,
    page: str,
    sources: Iterable[type[models.Model]],
    context: dict[str, Any],
) -> HttpResponse:
    return render(
        request,
        f"analytics/{template}",
        {"page": page, "data_as_of": selectors.view_freshness(sources), **context},
    )


@analyst_required
def overview(request: HttpRequest) -> HttpResponse:
    form = OverviewForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = overview_params(form, today=today())
    return _page(
        request,
        "overview.html",
        page="overview",
        sources=selectors.OVERVIEW_SOURCES,
        context={
            "overview": selectors.overview(end=params.end, today=today()),
            "form": OverviewForm(initial={"end": params.end}),
            "params": params.query(),
        },
    )


@analyst_required
def icd10(request: HttpRequest) -> HttpResponse:
    form = Icd10Form(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = icd10_params(form, today=today())
    level = params.level
    rows = selectors.diagnosis_rows(months=params.months, plan_id=_pk(params.plan), level=level)
    if not request.user.has_perm(selectors.SMALL_CELLS_PERMISSION):
        rows = selectors.small_cells_suppress(
            rows, months=params.months, plan_id=_pk(params.plan), level=level
        )
    return _page(
        request,
        "icd10.html",
        page="icd10",
        sources=selectors.DIAGNOSIS_SOURCES,
        context={
            "rows": rows,
            "suppressed": sum(r.suppressed for r in rows),
            "small_cell_min": selectors.SMALL_CELL_MIN,
            "level": level,
            "months": params.months,
            "plan": params.plan,
            "chapter_title": selectors.chapter_title(level.chapter) if level.chapter else "",
            "block_title": selectors.block_title(level.block) if level.block else "",
            "form": Icd10Form(initial={**params.query(), "plan": params.plan}),
            "params": params.query(),
            "filters": params.filters(),
        },
    )


@analyst_required
def plans(request: HttpRequest) -> HttpResponse:
    latest = selectors.latest_day(PlanDailyTotals, today=today()) or today()
    offered = quarters_back(Quarter.of(latest), 12)
    form = QuarterForm(request.GET, quarters=offered)
    if not form.is_valid():
        return bad_request(form)
    params = plan_params(form, today=today())
    rows = selectors.plan_comparison(quarter=params.quarter)
    return _page(
        request,
        "plans.html",
        page="plans",
        sources=selectors.PLAN_SOURCES,
        context={
            "quarter": params.quarter,
            "previous_quarter": params.quarter.previous(),
            "rows": rows,
            "headings": rows[-1].metrics(),
            "form": QuarterForm(initial={"quarter": params.quarter.key}, quarters=offered),
            "params": params.query(),
        },
    )


@analyst_required
def providers(request: HttpRequest) -> HttpResponse:
    form = ProviderForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = provider_params(form, today=today())
    rows = selectors.provider_performance(month=params.month, sort=params.sort)
    page_obj = Paginator(rows, PROVIDERS_PER_PAGE).get_page(params.page)
    current = params.sort.removeprefix("-")
    descending = params.sort.startswith("-")
    columns = []
    for key, heading, desc_first in PROVIDER_COLUMNS:
        if key == current:
            next_sort = key if descending else f"-{key}"
            state = "desc" if descending else "asc"
        else:
            next_sort = f"-{key}" if desc_first else key
            state = ""
        columns.append({"key": key, "heading": heading, "sort": next_sort, "state": state})
    return _page(
        request,
        "providers.html",
        page="providers",
        sources=selectors.PROVIDER_SOURCES,
        context={
            "month": params.month,
            "page_obj": page_obj,
            "rows": selectors.provider_rows(page_obj.object_list),
            "columns": columns,
            "form": ProviderForm(initial={"month": params.month, "sort": params.sort}),
            "params": params.query(),
        },
    )


@analyst_required
def flow(request: HttpRequest) -> HttpResponse:
    form = MonthRangeForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = flow_params(form, today=today())
    transitions = selectors.status_transitions(months=params.months)
    return _page(
        request,
        "flow.html",
        page="flow",
        sources=selectors.FLOW_SOURCES,
        context={
            "months": params.months,
            "transitions": transitions,
            "sankey": selectors.sankey_graph(transitions),
            "form": MonthRangeForm(initial={"start": params.months.first, "end": params.months.last}),
            "params": params.query(),
        },
    )


@analyst_required
def failed(request: HttpRequest) -> HttpResponse:
    form = PlanMonthRangeForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = failed_params(form, today=today())
    return _page(
        request,
        "failed.html",
        page="failed",
        sources=selectors.FAILED_SOURCES,
        context={
            "months": params.months,
            "plan": params.plan,
            "failed": selectors.failed_claims(months=params.months, plan_id=_pk(params.plan)),
            "form": PlanMonthRangeForm(
                initial={"start": params.months.first, "end": params.months.last, "plan": params.plan}
            ),
            "params": params.query(),
        },
    )


@analyst_required
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = report_params(form, today=today())
    return _page(
        request,
        "report.html",
        page="report",
        sources=selectors.REPORT_SOURCES,
        context={
            "report": selectors.monthly_report(month=params.month, plan_id=params.plan_id),
            "plan": params.plan,
            "form": ReportForm(initial={"month": params.month, "plan": params.plan}),
            "params": params.query(),
        },
    )


@analyst_required
def report_csv(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = report_params(form, today=today())
    data = selectors.monthly_report(month=params.month, plan_id=params.plan_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stem = _file_stem(params.month, params.plan_id)
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    exports.report_csv(data, response)
    # Exports leave the platform: who took which report is audited (ids only).
    audit_record(request=request, action="export", object_type="analytics.report_csv", object_id=stem)
    return response


@analyst_required
def report_pdf(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    params = report_params(form, today=today())
    data = selectors.monthly_report(month=params.month, plan_id=params.plan_id)
    pdf = exports.report_pdf(
        data,
        data_as_of=selectors.view_freshness(selectors.REPORT_SOURCES),
        plan_name=params.plan.name if params.plan else "",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    stem = _file_stem(params.month, params.plan_id)
    response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
    audit_record(request=request, action="export", object_type="analytics.report_pdf", object_id=stem)
    return response


def _file_stem(month: dt.date, plan_id: int | None) -> str:
    return f"claims-report-{month:%Y-%m}" + (f"-plan-{plan_id}" if plan_id else "")


def _pk(obj: models.Model | None) -> int | None:
    return None if obj is None else int(obj.pk)
