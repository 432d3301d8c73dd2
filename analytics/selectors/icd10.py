"""2. ICD-10-CM explorer: chapter -> block -> code over months, and distinct patients per month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.db.models import Max, Q, QuerySet, Sum

from analytics.models import DiagnosisMonthly, Icd10Code
from analytics.periods import MonthRange
from analytics.selectors.common import CENT, MonthlySeries

DIAGNOSIS_SOURCES = (DiagnosisMonthly,)
UNKNOWN_CHAPTER = "?"  # codes the code set does not know (invalid, or ICD-9-CM)


@dataclass(frozen=True)
class DiagnosisRow:
    key: str  # chapter number, block range ("E08-E13") or code ("E119")
    title: str
    # None in a suppressed row (``small_cells_suppress``), like claims and billed.
    patient_months: int | None  # distinct patients per month and plan, summed over months and plans
    claims: int | None
    billed: Decimal | None
    suppressed: bool = False  # fewer than SMALL_CELL_MIN patients (or hidden beside such a row)

    @property
    def average_charge(self) -> Decimal | None:
        return (self.billed / self.claims).quantize(CENT) if self.claims and self.billed is not None else None


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


# -- small-cell suppression ------------------------------------------------------------------------------------
# CMS cell size suppression policy: no figure derived from fewer than 11 patients is shown (1-10; 0 may be).
SMALL_CELL_MIN = 11
# Who sees every cell (a privacy officer, say): analysts do not hold it; superusers hold every permission.
SMALL_CELLS_PERMISSION = "analytics.view_small_cells"


def _largest_cells(
    *, months: MonthRange, plan_id: int | None, level: DiagnosisLevel, keys: Sequence[str]
) -> dict[str, int]:
    """Per key, the most patients in any one (month, plan) cell of the view: a lower bound of its distinct
    patients over the months (a patient counted in that cell is one person)."""
    key = level.lists
    rows = (
        _diagnosis_queryset(months=months, plan_id=plan_id, level=level)
        .filter(**{f"{key}__in": list(keys)})
        .order_by()
        .values(key)
        .annotate(largest=Max("patients"))
    )
    return {row[key]: row["largest"] for row in rows}


def small_cells_suppress(
    rows: Sequence[DiagnosisRow], *, months: MonthRange, plan_id: int | None, level: DiagnosisLevel
) -> list[DiagnosisRow]:
    """``rows`` with every figure of a row that may stand for fewer than ``SMALL_CELL_MIN`` distinct patients
    over ``months`` set to None and ``suppressed`` set (CMS cell size suppression policy; the de-identification
    expectation of 45 CFR 164.514(b)). When exactly one row of the list is suppressed, the row with the fewest
    claims of the others is suppressed too, so that the level above (whose total is shown on its own page) does
    not give the hidden row's figures by subtraction. Shape: the rows in their order, new ``DiagnosisRow``s.

    The view counts patients distinct within a month and plan, so a row's distinct patients over the months lie
    between its largest (month, plan) cell and its patient-months. A row is shown only when that largest cell
    alone holds ``SMALL_CELL_MIN`` patients; a row whose every cell is smaller is hidden even when its
    patient-months are many, because they may be a few people's (one patient seen monthly is 12). That hides
    some rows of 11 or more patients spread thinly over the months: the price of reading only the view, since
    counting them exactly means reading the claim tables from a page.
    """
    largest = _largest_cells(months=months, plan_id=plan_id, level=level, keys=[r.key for r in rows])
    small = {r.key for r in rows if largest.get(r.key, 0) < SMALL_CELL_MIN}
    if len(small) == 1:
        others = [r for r in rows if r.key not in small]
        if others:
            small.add(min(others, key=lambda r: (r.claims or 0, r.key)).key)
    return [
        DiagnosisRow(r.key, r.title, None, None, None, suppressed=True) if r.key in small else r for r in rows
    ]


def small_months_suppress(series: MonthlySeries) -> MonthlySeries:
    """``series`` with each month's count from 1 to ``SMALL_CELL_MIN - 1`` patients set to None."""
    return MonthlySeries(
        series.months,
        {
            key: [None if v is not None and 0 < v < SMALL_CELL_MIN else v for v in values]
            for key, values in series.series.items()
        },
    )
