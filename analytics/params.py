"""A page's parameters with the defaults filled in, shared by the page and its JSON endpoints.

Defaults come from the data (the latest day or month on file, not after today), so a page opened without
parameters shows the newest data whatever day it is. ``query()`` gives the parameters back as the query
string the page hands to its chart endpoints, so a chart always shows what the table beside it shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils import timezone

from analytics import selectors
from analytics.forms import (
    Icd10Form,
    MonthRangeForm,
    OverviewForm,
    PlanMonthRangeForm,
    ProviderForm,
    QuarterForm,
    QuarterParamForm,
    ReportForm,
)
from analytics.models import (
    DiagnosisMonthly,
    FailedClaimsMonthly,
    PlanDailyTotals,
    ProviderDailyTotals,
    StatusFlowMonthly,
)
from analytics.periods import MonthRange, Quarter, add_months, month_start
from members.models import HealthPlan

# Month-range pages show this many months when no range is given.
DEFAULT_MONTHS = 12


def today() -> dt.date:
    """Today in TIME_ZONE (UTC): no default reaches past it."""
    return timezone.localdate()


def _month_range(form: MonthRangeForm, model: type[models.Model], *, today: dt.date) -> MonthRange:
    start: dt.date | None = form.cleaned_data.get("start")
    end: dt.date | None = form.cleaned_data.get("end")
    if end is None:
        latest = selectors.latest_month(model, today=today) or month_start(today)
        end = max(latest, start) if start else latest
    if start is None:
        start = add_months(end, -(DEFAULT_MONTHS - 1))
    return MonthRange(start, end)


def _months_query(months: MonthRange, plan: HealthPlan | None = None) -> dict[str, str]:
    query = {"start": f"{months.first:%Y-%m}", "end": f"{months.last:%Y-%m}"}
    if plan is not None:
        query["plan"] = str(plan.pk)
    return query


@dataclass(frozen=True)
class OverviewParams:
    end: dt.date

    def query(self) -> dict[str, str]:
        return {"end": self.end.isoformat()}


def overview_params(form: OverviewForm, *, today: dt.date) -> OverviewParams:
    return OverviewParams(form.cleaned_data.get("end") or selectors.overview_end(today=today))


@dataclass(frozen=True)
class Icd10Params:
    months: MonthRange
    plan: HealthPlan | None
    level: selectors.DiagnosisLevel

    def filters(self) -> dict[str, str]:
        """The query without the drill-down position (for links to another chapter or block)."""
        return _months_query(self.months, self.plan)

    def query(self) -> dict[str, str]:
        return {**self.filters(), "chapter": self.level.chapter, "block": self.level.block}


def icd10_params(form: Icd10Form, *, today: dt.date) -> Icd10Params:
    data = form.cleaned_data
    return Icd10Params(
        months=_month_range(form, DiagnosisMonthly, today=today),
        plan=data.get("plan"),
        level=selectors.DiagnosisLevel(data.get("chapter") or "", data.get("block") or ""),
    )


@dataclass(frozen=True)
class PlanParams:
    quarter: Quarter

    def query(self) -> dict[str, str]:
        return {"quarter": self.quarter.key}


def plan_params(form: QuarterForm | QuarterParamForm, *, today: dt.date) -> PlanParams:
    return PlanParams(form.cleaned_data.get("quarter") or selectors.default_quarter(today=today))


@dataclass(frozen=True)
class ProviderParams:
    month: dt.date
    sort: str
    page: int

    def query(self) -> dict[str, str]:
        return {"month": f"{self.month:%Y-%m}", "sort": self.sort}


def provider_params(form: ProviderForm, *, today: dt.date) -> ProviderParams:
    data = form.cleaned_data
    month = data.get("month") or selectors.latest_complete_month(ProviderDailyTotals, today=today)
    return ProviderParams(month, data.get("sort") or selectors.PROVIDER_DEFAULT_SORT, data.get("page") or 1)


@dataclass(frozen=True)
class MonthRangeParams:
    months: MonthRange
    plan: HealthPlan | None = None

    def query(self) -> dict[str, str]:
        return _months_query(self.months, self.plan)


def flow_params(form: MonthRangeForm, *, today: dt.date) -> MonthRangeParams:
    return MonthRangeParams(_month_range(form, StatusFlowMonthly, today=today))


def failed_params(form: PlanMonthRangeForm, *, today: dt.date) -> MonthRangeParams:
    return MonthRangeParams(
        _month_range(form, FailedClaimsMonthly, today=today), form.cleaned_data.get("plan")
    )


@dataclass(frozen=True)
class ReportParams:
    month: dt.date
    plan: HealthPlan | None

    @property
    def plan_id(self) -> int | None:
        return None if self.plan is None else self.plan.pk

    def query(self) -> dict[str, str]:
        query = {"month": f"{self.month:%Y-%m}"}
        if self.plan is not None:
            query["plan"] = str(self.plan.pk)
        return query


def report_params(form: ReportForm, *, today: dt.date) -> ReportParams:
    data = form.cleaned_data
    return ReportParams(
        data.get("month") or selectors.latest_complete_month(PlanDailyTotals, today=today), data.get("plan")
    )
