"""Reads for the analytics pages: typed rows and QuerySets over the materialized views and summary tables.

Only those: never the claim tables (``claims_claim``, ``claims_claimline``, the status history). The page tests
capture every query a page and a JSON endpoint runs and fail on one that names a claim table. Joins to small
reference tables (health plans, providers, the ICD-10-CM code set, the refresh log) are fine.

Units: money is ``Decimal`` dollars (cents exact); rates are fractions 0..1 of all claims in the group, None
when there are no claims; processing times are seconds. Dates are service dates unless a name says otherwise
(the queue depth and status flow are counted by the day of the status change, as their views are).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db import models
from django.db.models import F, FloatField, Max, Q, QuerySet, Sum
from django.db.models.functions import Cast, NullIf

from analytics import codes
from analytics.models import (
    ClaimsDailyTotals,
    DiagnosisMonthly,
    FailedClaimsMonthly,
    Icd10Code,
    PlanDailyTotals,
    ProviderDailyTotals,
    QueueDepthDaily,
    RefreshLog,
    RefreshOutcome,
    RevenueMonthly,
    StatusFlowMonthly,
)
from analytics.periods import MonthRange, Period, Quarter, add_months, month_end, month_start
from members.models import HealthPlan
from providers.models import EntityType

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- freshness --------------------------------------------------------------------------------------------------


def view_freshness(views: Iterable[type[models.Model]]) -> dt.datetime | None:
    """When ``views`` (view or summary-table models) were last brought up to date, for "data as of".

    The oldest of their last successful refreshes (``RefreshLog.finished_at``, full or incremental), because a
    page is only as fresh as the stalest source it reads; None when one of them has never refreshed.
    One query on the partial index ``refreshlog_fresh_idx``.
    """
    names = {view._meta.db_table for view in views}
    if not names:
        return None
    last = dict(
        RefreshLog.objects.filter(view__in=names, outcome=RefreshOutcome.SUCCESS, finished_at__isnull=False)
        .order_by()
        .values("view")
        .annotate(last=Max("finished_at"))
        .values_list("view", "last")
    )
    if names - last.keys():
        return None
    return min(last.values())


# -- shared shapes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Claim counts and dollars for a group of claims (a period, a plan, a provider)."""

    claims: int = 0
    billed: Decimal = ZERO
    paid: Decimal = ZERO
    approved: int = 0
    denied: int = 0
    pended: int = 0
    processed: int = 0
    processing_seconds: Decimal = ZERO

    @property
    def approval_rate(self) -> float | None:
        return _rate(self.approved, self.claims)

    @property
    def denial_rate(self) -> float | None:
        return _rate(self.denied, self.claims)

    @property
    def mean_processing_seconds(self) -> float | None:
        """Mean of processed_at - received_at over the processed claims (seconds)."""
        return float(self.processing_seconds) / self.processed if self.processed else None

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            **{name: getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__}
        )


_PLAN_FIELDS = ("claims", "billed", "paid", "approved", "denied", "pended", "processed", "processing_seconds")
_MONEY = {"billed", "paid", "processing_seconds", "approved_billed", "denied_billed", "rvus"}


def _period_sums(fields: Sequence[str], periods: Mapping[str, Period]) -> dict[str, Sum]:
    """``Sum(field) FILTER (WHERE day BETWEEN ...)`` for each period and field, named ``<period>__<field>``."""
    return {
        f"{name}__{column}": Sum(
            column, filter=Q(day__range=(period.start, period.end)), default=ZERO if column in _MONEY else 0
        )
        for name, period in periods.items()
        for column in fields
    }


def _totals(row: Mapping[str, Any], prefix: str, fields: Sequence[str] = _PLAN_FIELDS) -> Totals:
    return Totals(**{column: row[f"{prefix}__{column}"] for column in fields})


def latest_day(model: type[models.Model], *, today: dt.date) -> dt.date | None:
    """The latest service day on file in a day-grain summary, not after ``today``.

    Pages default to the latest data rather than to today: service dates lag receipt, and demo data ends on
    a fixed day; a future-dated claim never moves the window.
    """
    latest: dt.date | None = model._default_manager.filter(day__lte=today).aggregate(latest=Max("day"))[
        "latest"
    ]
    return latest


def latest_month(model: type[models.Model], *, today: dt.date) -> dt.date | None:
    """The latest month on file in a month-grain view, not after ``today``'s month."""
    latest: dt.date | None = model._default_manager.filter(month__lte=today).aggregate(latest=Max("month"))[
        "latest"
    ]
    return latest


def latest_complete_month(model: type[models.Model], *, today: dt.date) -> dt.date:
    """The latest complete month on file in a day-grain summary: a month still filling up would look like a
    drop. The month of ``today`` when there is no data."""
    latest = latest_day(model, today=today) or today
    return month_start(latest) if latest == month_end(latest) else add_months(month_start(latest), -1)


def health_plans() -> QuerySet[HealthPlan]:
    return HealthPlan.objects.order_by("name").only("id", "name", "payer_id")


# -- 1. overview ------------------------------------------------------------------------------------------------

OVERVIEW_SOURCES = (ClaimsDailyTotals, PlanDailyTotals, QueueDepthDaily)
KpiUnit = Literal["count", "money", "rate", "seconds"]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: KpiUnit
    current: int | Decimal | float | None
    previous: int | Decimal | float | None
    higher_is_better: bool | None  # None: neither (volume)

    @property
    def change(self) -> float | None:
        """Rates: the difference in percentage points; everything else: the relative change (0.1 = +10%)."""
        if self.current is None or self.previous is None:
            return None
        if self.unit == "rate":
            return (float(self.current) - float(self.previous)) * 100
        if not self.previous:
            return None
        return (float(self.current) - float(self.previous)) / float(self.previous)

    @property
    def trend(self) -> Literal["good", "bad", "flat", ""]:
        change = self.change
        if change is None or self.higher_is_better is None:
            return ""
        if abs(change) < 1e-9:
            return "flat"
        return "good" if (change > 0) == self.higher_is_better else "bad"


@dataclass(frozen=True)
class Overview:
    period: Period
    previous_period: Period
    current: Totals
    previous: Totals
    queue_day: dt.date  # the queue depth is counted at the end of this day ...
    queue_depth: int
    previous_queue_depth: int  # ... and of the same day one window earlier

    @property
    def previous_queue_day(self) -> dt.date:
        return self.queue_day - dt.timedelta(days=self.period.days)

    def kpis(self) -> list[Kpi]:
        cur, prev = self.current, self.previous
        return [
            *_volume_kpis(cur, prev),
            Kpi(
                "queue_depth", "Open queue depth", "count", self.queue_depth, self.previous_queue_depth, False
            ),
            Kpi(
                "mean_processing_seconds",
                "Mean processing time",
                "seconds",
                cur.mean_processing_seconds,
                prev.mean_processing_seconds,
                False,
            ),
        ]


def overview_end(*, today: dt.date) -> dt.date:
    """Default last day of the overview window: the latest service day on file, else ``today``."""
    return latest_day(ClaimsDailyTotals, today=today) or today


def queue_depth_at(day: dt.date) -> int:
    """Claims received, validated or pended at the end of ``day`` (0 before the first status change)."""
    depth = (
        QueueDepthDaily._default_manager.filter(day__lte=day)
        .order_by("-day")
        .values_list("depth", flat=True)
        .first()
    )
    # int(): the view's running sum() of bigints is numeric in PostgreSQL, which psycopg reads as Decimal.
    return int(depth or 0)


def overview(*, end: dt.date, today: dt.date, days: int = 30) -> Overview:
    """KPIs of the ``days`` service days ending ``end`` against the ``days`` before (5 small queries).

    The open queue is a stock counted by the day of the status change, not by service date: when the window
    reaches the latest service day on file, it is counted at the end of ``today`` (claims for those days are
    still arriving and waiting), otherwise at the end of the window.
    """
    period = Period.ending(end, days)
    latest = latest_day(ClaimsDailyTotals, today=today)
    queue_day = today if latest is None or end >= latest else end
    previous = period.previous()
    periods = {"cur": period, "prev": previous}
    span = Q(day__range=(previous.start, period.end))
    day_fields = ("claims", "billed", "paid", "approved", "denied", "pended")
    claims = ClaimsDailyTotals.objects.filter(span).aggregate(**_period_sums(day_fields, periods))
    processing = PlanDailyTotals.objects.filter(span).aggregate(
        **_period_sums(("processed", "processing_seconds"), periods)
    )
    both = {**claims, **processing}
    fields = (*day_fields, "processed", "processing_seconds")
    return Overview(
        period=period,
        previous_period=previous,
        current=_totals(both, "cur", fields),
        previous=_totals(both, "prev", fields),
        queue_day=queue_day,
        queue_depth=queue_depth_at(queue_day),
        previous_queue_depth=queue_depth_at(queue_day - dt.timedelta(days=days)),
    )


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    claims: int
    billed: Decimal
    paid: Decimal
    approved: int
    denied: int


def claims_by_day(period: Period) -> list[DayRow]:
    """One row per day of ``period``, zeros on days without claims (a chart must not skip days)."""
    rows = {
        row["day"]: row
        for row in ClaimsDailyTotals.objects.filter(day__range=(period.start, period.end)).values(
            "day", "claims", "billed", "paid", "approved", "denied"
        )
    }
    empty: dict[str, Any] = {"claims": 0, "billed": ZERO, "paid": ZERO, "approved": 0, "denied": 0}
    return [DayRow(**{**empty, **rows.get(day, {}), "day": day}) for day in period.dates()]


# -- 2. ICD-10-CM explorer --------------------------------------------------------------------------------------

DIAGNOSIS_SOURCES = (DiagnosisMonthly,)
UNKNOWN_CHAPTER = "?"  # codes the code set does not know (invalid, or ICD-9-CM)


@dataclass(frozen=True)
class DiagnosisRow:
    key: str  # chapter number, block range ("E08-E13") or code ("E119")
    title: str
    patient_months: int  # distinct patients per month and plan, summed over months and plans
    claims: int
    billed: Decimal

    @property
    def average_charge(self) -> Decimal | None:
        return (self.billed / self.claims).quantize(CENT) if self.claims else None


@dataclass(frozen=True)
class DiagnosisLevel:
    """Where the explorer stands: all chapters, the blocks of a chapter, or the codes of a block."""

    chapter: str = ""
    block: str = ""

    @property
    def lists(self) -> Literal["chapter", "block", "code"]:
        if self.block:
            return "code"
        return "block" if self.chapter else "chapter"

    def q(self) -> Q:
        """The view's rows for this level: '' in block marks chapter totals, '' in code block totals."""
        if self.block:
            return Q(chapter=self.chapter, block=self.block) & ~Q(code="")
        if self.chapter:
            return Q(chapter=self.chapter, code="") & ~Q(block="")
        return Q(block="")


class _Titles:
    """Chapter and block titles of the ICD-10-CM code set, read once per process.

    The code set is static (loaded by a migration), and reading the distinct titles scans its ~98,000 rows
    (about 60 ms): too slow for every page. An empty result is not kept, so a table filled later is seen.
    """

    chapters: dict[str, str] = {}
    blocks: dict[str, str] = {}

    @classmethod
    def load(cls) -> None:
        if cls.chapters:
            return
        rows = Icd10Code.objects.order_by("chapter", "block").distinct("chapter", "block")
        for chapter, chapter_title, block, block_title in rows.values_list(
            "chapter", "chapter_title", "block", "block_title"
        ):
            cls.chapters[chapter] = chapter_title
            cls.blocks[block] = block_title


def chapter_title(chapter: str) -> str:
    _Titles.load()
    if chapter == UNKNOWN_CHAPTER:
        return "Not in ICD-10-CM (invalid or ICD-9-CM codes)"
    return _Titles.chapters.get(chapter, f"Chapter {chapter}")


def block_title(block: str) -> str:
    _Titles.load()
    if block == UNKNOWN_CHAPTER:
        return "Not in ICD-10-CM"
    return _Titles.blocks.get(block, block)


def _code_titles(keys: Iterable[str]) -> dict[str, str]:
    return dict(Icd10Code.objects.filter(code__in=list(keys)).values_list("code", "description"))


def _icd_sort_key(key: str) -> tuple[int, str]:
    # Chapters are numbers ("2" before "10"); blocks and codes sort as text; "?" last.
    return (int(key), "") if key.isdigit() else (10_000 if key == UNKNOWN_CHAPTER else 1_000, key)


def _diagnosis_queryset(
    *, months: MonthRange, plan_id: int | None, level: DiagnosisLevel
) -> QuerySet[DiagnosisMonthly]:
    rows = DiagnosisMonthly._default_manager.filter(level.q(), month__range=(months.first, months.last))
    if plan_id is not None:
        rows = rows.filter(health_plan_id=plan_id)
    return rows


def diagnosis_rows(*, months: MonthRange, plan_id: int | None, level: DiagnosisLevel) -> list[DiagnosisRow]:
    """The chapters, blocks or codes of ``level`` over ``months``, in ICD-10-CM order.

    Patients are distinct per month and plan in the view; summed here they are patient-months.
    """
    key = level.lists
    rows = (
        _diagnosis_queryset(months=months, plan_id=plan_id, level=level)
        .order_by()
        .values(key)
        .annotate(patients=Sum("patients"), claims_sum=Sum("claims"), billed_sum=Sum("billed"))
    )
    found = list(rows)
    if key == "code":
        titles = _code_titles(row["code"] for row in found)
        title = lambda k: titles.get(k, "Not an ICD-10-CM code")  # noqa: E731
    else:
        title = chapter_title if key == "chapter" else block_title
    result = [
        DiagnosisRow(
            key=row[key],
            title=title(row[key]),
            patient_months=row["patients"],
            claims=row["claims_sum"],
            billed=row["billed_sum"],
        )
        for row in found
    ]
    return sorted(result, key=lambda r: _icd_sort_key(r.key))


@dataclass(frozen=True)
class MonthlySeries:
    months: list[dt.date]
    series: dict[str, list[int]]  # key -> one value per month


def diagnosis_patients_by_month(
    *, months: MonthRange, plan_id: int | None, level: DiagnosisLevel, keys: Sequence[str]
) -> MonthlySeries:
    """Distinct patients per month (summed over plans) for ``keys`` of ``level``: the figure that needs no
    caveat, since patients are distinct within a month."""
    key = level.lists
    counts: dict[str, dict[dt.date, int]] = defaultdict(dict)
    rows = (
        _diagnosis_queryset(months=months, plan_id=plan_id, level=level)
        .filter(**{f"{key}__in": list(keys)})
        .order_by()
        .values("month", key)
        .annotate(patients_sum=Sum("patients"))
    )
    for row in rows:
        counts[row[key]][row["month"]] = row["patients_sum"]
    all_months = months.months()
    return MonthlySeries(all_months, {k: [counts[k].get(m, 0) for m in all_months] for k in keys})


# -- 3. plan comparison -----------------------------------------------------------------------------------------

PLAN_SOURCES = (PlanDailyTotals,)


@dataclass(frozen=True)
class PlanComparisonRow:
    plan_id: int | None  # None: all plans
    plan_name: str
    current: Totals
    previous: Totals

    def metrics(self) -> list[Kpi]:
        cur, prev = self.current, self.previous
        return [
            *_volume_kpis(cur, prev),
            Kpi(
                "mean_processing_seconds",
                "Avg processing",
                "seconds",
                cur.mean_processing_seconds,
                prev.mean_processing_seconds,
                False,
            ),
        ]


def default_quarter(*, today: dt.date) -> Quarter:
    """The latest quarter with data that has ended by the latest service day on file (a partial quarter
    against a full one would show a drop that is only missing days)."""
    latest = latest_day(PlanDailyTotals, today=today) or today
    quarter = Quarter.of(latest)
    return quarter if quarter.period.end <= latest else quarter.previous()


def plan_comparison(*, quarter: Quarter) -> list[PlanComparisonRow]:
    """Per plan, ``quarter`` against the one before (one query), plans by name, then an all-plans row."""
    periods = {"cur": quarter.period, "prev": quarter.previous().period}
    rows = (
        PlanDailyTotals.objects.filter(day__range=(periods["prev"].start, periods["cur"].end))
        .order_by("health_plan__name", "health_plan_id")
        .values("health_plan_id", "health_plan__name")
        .annotate(**_period_sums(_PLAN_FIELDS, periods))
    )
    result = [
        PlanComparisonRow(
            plan_id=row["health_plan_id"],
            plan_name=row["health_plan__name"],
            current=_totals(row, "cur"),
            previous=_totals(row, "prev"),
        )
        for row in rows
    ]
    total_cur = sum((r.current for r in result), Totals())
    total_prev = sum((r.previous for r in result), Totals())
    return [*result, PlanComparisonRow(None, "All plans", total_cur, total_prev)]


# -- 4. provider performance ------------------------------------------------------------------------------------

PROVIDER_SOURCES = (ProviderDailyTotals,)
# The columns a person may sort by, and what each sorts on: only these reach order_by().
PROVIDER_SORTS: dict[str, str] = {
    "provider": "name_key",
    "npi": "npi",
    "claims": "claims",
    "approval_rate": "approval_rate",
    "denial_rate": "denial_rate",
    "billed": "billed",
    "paid": "paid",
    "rvus": "rvus",
}
PROVIDER_DEFAULT_SORT = "-claims"


def provider_performance(
    *, month: dt.date, sort: str = PROVIDER_DEFAULT_SORT
) -> QuerySet[Any, dict[str, Any]]:
    """One row per billing provider for ``month`` (dicts: provider fields, sums and rates), sorted by ``sort``
    (a ``PROVIDER_SORTS`` key, "-" for descending), then by provider id so pages never overlap.

    Raises KeyError for a sort outside the whitelist. Money in dollars; rates 0..1 of the provider's claims.
    """
    column = PROVIDER_SORTS[sort.removeprefix("-")]
    order = F(column).desc(nulls_last=True) if sort.startswith("-") else F(column).asc(nulls_last=True)
    claims = Cast("claims", FloatField())
    return (
        ProviderDailyTotals.objects.filter(day__gte=month, day__lt=add_months(month, 1))
        .values("billing_provider_id")
        .annotate(
            npi=F("billing_provider__npi"),
            entity_type=F("billing_provider__entity_type"),
            organization_name=F("billing_provider__organization_name"),
            last_name=F("billing_provider__last_name"),
            first_name=F("billing_provider__first_name"),
            name_key=F("billing_provider__search_name"),
            claims=Sum("claims"),
            approved=Sum("approved"),
            denied=Sum("denied"),
            billed=Sum("billed"),
            paid=Sum("paid"),
            rvus=Sum("rvus"),
        )
        .annotate(
            approval_rate=Cast("approved", FloatField()) / NullIf(claims, 0.0),
            denial_rate=Cast("denied", FloatField()) / NullIf(claims, 0.0),
        )
        .order_by(order, "billing_provider_id")
    )


@dataclass(frozen=True)
class ProviderRow:
    provider_id: int
    npi: str
    name: str
    claims: int
    approved: int
    denied: int
    billed: Decimal
    paid: Decimal
    rvus: Decimal
    approval_rate: float | None
    denial_rate: float | None


def provider_rows(rows: Iterable[Mapping[str, Any]]) -> list[ProviderRow]:
    """Typed rows for a page of ``provider_performance``, with the name as ``Provider.display_name`` says it."""
    result = []
    for row in rows:
        if row["entity_type"] == EntityType.ORGANIZATION or not row["last_name"]:
            name = row["organization_name"] or row["last_name"]
        else:
            name = f"{row['last_name']}, {row['first_name']}".strip(", ")
        result.append(
            ProviderRow(
                provider_id=row["billing_provider_id"],
                npi=row["npi"],
                name=name,
                claims=row["claims"],
                approved=row["approved"],
                denied=row["denied"],
                billed=row["billed"],
                paid=row["paid"],
                rvus=row["rvus"],
                approval_rate=row["approval_rate"],
                denial_rate=row["denial_rate"],
            )
        )
    return result


# -- 5. status flow ---------------------------------------------------------------------------------------------

FLOW_SOURCES = (StatusFlowMonthly,)
NEW = "new"
# Lifecycle stage of each status (claims.models.ClaimStatus): a Sankey link must go to a later stage.
STAGES: dict[str, int] = {
    "": 0,
    "received": 1,
    "validated": 2,
    "pended": 3,
    "approved": 4,
    "denied": 4,
    "replaced": 5,
    "voided": 5,
}


@dataclass(frozen=True)
class Transition:
    from_status: str  # "" for a claim's first status
    to_status: str
    count: int


@dataclass(frozen=True)
class SankeyLink:
    source: str
    target: str
    value: int


@dataclass(frozen=True)
class Sankey:
    nodes: list[str]
    links: list[SankeyLink]
    self_loops: int  # transitions from a status to itself, not drawn
    revisits: int  # transitions back to an earlier or same stage, drawn into an "(again)" node
    total: int  # every transition, drawn or not


def status_transitions(*, months: MonthRange) -> list[Transition]:
    """Transitions summed over ``months`` (months of the status change), most frequent first."""
    rows = (
        StatusFlowMonthly._default_manager.filter(month__range=(months.first, months.last))
        .order_by()
        .values("from_status", "to_status")
        .annotate(n=Sum("transitions"))
        .order_by("-n", "from_status", "to_status")
    )
    return [Transition(row["from_status"], row["to_status"], row["n"]) for row in rows]


def _stage(status: str) -> int:
    return STAGES.get(status, max(STAGES.values()) + 1)


def sankey_graph(transitions: Iterable[Transition]) -> Sankey:
    """The transitions as an acyclic graph, which a Sankey diagram needs (ECharts refuses a cycle).

    Statuses repeat (received -> pended -> validated -> pended), so the transition graph can have cycles.
    A link that moves to a later lifecycle stage (``STAGES``) joins the two status nodes; one that goes back
    to an earlier or the same stage ends in a separate node "<status> (again)" that has no outgoing links,
    so no path can return to a node. What happens after a revisit is drawn from the status's main node:
    the view counts transitions, not paths, so that is all it can say. Self-transitions are left out.
    """
    links: dict[tuple[str, str], int] = defaultdict(int)
    self_loops = revisits = total = 0
    for t in transitions:
        total += t.count
        if t.from_status == t.to_status:
            self_loops += t.count
            continue
        source = t.from_status or NEW
        if _stage(t.to_status) > _stage(t.from_status):
            target = t.to_status
        else:
            target = f"{t.to_status} (again)"
            revisits += t.count
        links[(source, target)] += t.count
    names = {name for pair in links for name in pair}
    main = sorted((n for n in names if "(again)" not in n), key=lambda n: (_stage("" if n == NEW else n), n))
    again = sorted(n for n in names if "(again)" in n)
    return Sankey(
        nodes=[*main, *again],
        links=[SankeyLink(s, t, v) for (s, t), v in sorted(links.items(), key=lambda item: -item[1])],
        self_loops=self_loops,
        revisits=revisits,
        total=total,
    )


# -- 6. failed claims -------------------------------------------------------------------------------------------

FAILED_SOURCES = (FailedClaimsMonthly,)
FAILED_KINDS = {
    "denied": "Denied claims",
    "code_check": "Claims with code-check problems",
    "file_rejected": "Rejected files",
}


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    label: str
    claims: int  # files, for rejected files
    billed: Decimal


@dataclass(frozen=True)
class FailedClaims:
    denials: list[ReasonRow]  # by CARC
    code_checks: list[ReasonRow]
    rejected_files: list[ReasonRow]  # by the segment of the first error

    @property
    def denied_claims(self) -> int:
        return sum(r.claims for r in self.denials)

    @property
    def code_check_claims(self) -> int:
        """Claims per problem kind, summed: a claim with two kinds of problem counts twice."""
        return sum(r.claims for r in self.code_checks)

    @property
    def files_rejected(self) -> int:
        return sum(r.claims for r in self.rejected_files)


def _failed_queryset(*, months: MonthRange, plan_id: int | None) -> QuerySet[FailedClaimsMonthly]:
    rows = FailedClaimsMonthly._default_manager.filter(month__range=(months.first, months.last))
    if plan_id is not None:
        # A rejected file has no payer (health_plan_id 0): it is shown whatever the plan.
        rows = rows.filter(Q(health_plan_id=plan_id) | Q(health_plan_id=0))
    return rows


def failed_claims(*, months: MonthRange, plan_id: int | None = None) -> FailedClaims:
    """Failures over ``months`` by kind and reason, largest first (one query)."""
    rows = (
        _failed_queryset(months=months, plan_id=plan_id)
        .order_by()
        .values("kind", "reason")
        .annotate(n=Sum("claims"), billed_sum=Sum("billed"))
        .order_by("-n", "reason")
    )
    by_kind: dict[str, list[ReasonRow]] = defaultdict(list)
    for row in rows:
        kind, reason = row["kind"], row["reason"]
        if kind == "denied":
            label = codes.carc_description(reason)
        elif kind == "code_check":
            label = codes.code_check_label(reason)
        else:
            label = codes.file_rejection_label(reason)
        by_kind[kind].append(ReasonRow(reason, label, row["n"], row["billed_sum"]))
    return FailedClaims(
        denials=by_kind["denied"],
        code_checks=by_kind["code_check"],
        rejected_files=[r for kind, rows_ in by_kind.items() if kind.startswith("file_") for r in rows_],
    )


def failed_by_month(*, months: MonthRange, plan_id: int | None = None) -> MonthlySeries:
    """Claims (files, for rejected files) per month and kind (``FAILED_KINDS``)."""
    counts: dict[str, dict[dt.date, int]] = defaultdict(dict)
    rows = (
        _failed_queryset(months=months, plan_id=plan_id)
        .order_by()
        .values("month", "kind")
        .annotate(n=Sum("claims"))
    )
    for row in rows:
        counts[row["kind"]][row["month"]] = row["n"]
    all_months = months.months()
    return MonthlySeries(
        all_months, {kind: [counts[kind].get(m, 0) for m in all_months] for kind in FAILED_KINDS}
    )


# -- 7. monthly report ------------------------------------------------------------------------------------------

REPORT_SOURCES = (PlanDailyTotals, RevenueMonthly, FailedClaimsMonthly, QueueDepthDaily)


@dataclass(frozen=True)
class ReportRow:
    plan_id: int | None  # None: all plans
    plan_name: str
    payer_id: str
    totals: Totals
    approved_billed: Decimal = ZERO
    denied_billed: Decimal = ZERO
    rvus: Decimal = ZERO
    code_check_claims: int = 0


@dataclass(frozen=True)
class MonthlyReport:
    month: dt.date
    plan_id: int | None  # the report's plan filter
    all_plans: ReportRow
    plans: list[ReportRow]
    queue_depth_end: int  # open claims at the end of the month's last day
    failed: FailedClaims
    top_denials: list[ReasonRow] = field(default_factory=list)


def monthly_report(*, month: dt.date, plan_id: int | None = None) -> MonthlyReport:
    """Every KPI of ``month`` (service month), for all plans and per plan (4-5 queries)."""
    months = MonthRange(month, month)
    period = months.as_period()
    day_rows = PlanDailyTotals.objects.filter(day__range=(period.start, period.end))
    revenue_rows = RevenueMonthly._default_manager.filter(month=month)
    failed_rows = FailedClaimsMonthly._default_manager.filter(month=month, kind="code_check")
    if plan_id is not None:
        day_rows = day_rows.filter(health_plan_id=plan_id)
        revenue_rows = revenue_rows.filter(health_plan_id=plan_id)
        failed_rows = failed_rows.filter(health_plan_id=plan_id)
    per_plan = (
        day_rows.order_by("health_plan__name", "health_plan_id")
        .values("health_plan_id", "health_plan__name", "health_plan__payer_id")
        .annotate(**{f"m__{column}": Sum(column) for column in _PLAN_FIELDS})
    )
    revenue = {
        row["health_plan_id"]: row
        for row in revenue_rows.values("health_plan_id", "approved_billed", "denied_billed", "rvus")
    }
    code_checks = dict(
        failed_rows.order_by()
        .values("health_plan_id")
        .annotate(n=Sum("claims"))
        .values_list("health_plan_id", "n")
    )
    plans = []
    for row in per_plan:
        plan = row["health_plan_id"]
        extra: Mapping[str, Any] = revenue.get(plan, {})
        plans.append(
            ReportRow(
                plan_id=plan,
                plan_name=row["health_plan__name"],
                payer_id=row["health_plan__payer_id"],
                totals=_totals(row, "m"),
                approved_billed=extra.get("approved_billed", ZERO),
                denied_billed=extra.get("denied_billed", ZERO),
                rvus=extra.get("rvus", ZERO),
                code_check_claims=code_checks.get(plan, 0),
            )
        )
    all_plans = ReportRow(
        plan_id=None,
        plan_name="All plans",
        payer_id="",
        totals=sum((r.totals for r in plans), Totals()),
        approved_billed=sum((r.approved_billed for r in plans), ZERO),
        denied_billed=sum((r.denied_billed for r in plans), ZERO),
        rvus=sum((r.rvus for r in plans), ZERO),
        code_check_claims=sum(r.code_check_claims for r in plans),
    )
    failed = failed_claims(months=months, plan_id=plan_id)
    return MonthlyReport(
        month=month,
        plan_id=plan_id,
        all_plans=all_plans,
        plans=plans,
        queue_depth_end=queue_depth_at(period.end),
        failed=failed,
        top_denials=failed.denials[:5],
    )


def _volume_kpis(cur: Totals, prev: Totals) -> list[Kpi]:
    """Claims, dollars and outcome rates, current against previous: shared by the overview and plan pages."""
    return [
        Kpi("claims", "Claims", "count", cur.claims, prev.claims, None),
        Kpi("billed", "Billed", "money", cur.billed, prev.billed, None),
        Kpi("paid", "Paid", "money", cur.paid, prev.paid, None),
        Kpi("approval_rate", "Approval rate", "rate", cur.approval_rate, prev.approval_rate, True),
        Kpi("denial_rate", "Denial rate", "rate", cur.denial_rate, prev.denial_rate, False),
    ]
