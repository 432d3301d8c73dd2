"""The query parameters of the analytics pages and their JSON endpoints, parsed and checked by forms.

Every parameter is optional: a page fills what is missing with a default from the data (the latest month or
day on file, see the views). Invalid input is a 400, never a silently different report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from analytics import selectors
from analytics.periods import Quarter

# Ranges longer than this are refused: the views hold a few years, and a chart of 25 years of months is noise.
MAX_MONTHS = 60

# The days a page accepts. Pages step back and forth by months and quarters from the day asked for, so a day
# at the edge of what Python's date holds (0001-01, 9999-12) overflowed into a 500; no claim is dated there.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
_IN_RANGE = [
    MinValueValidator(EARLIEST_DAY, message=f"Dates before {EARLIEST_DAY:%Y-%m} are not on file."),
    MaxValueValidator(LATEST_DAY, message=f"Dates after {LATEST_DAY:%Y-%m} are not on file."),
]


def _quarter_in_range(quarter: Quarter) -> Quarter:
    if not EARLIEST_DAY.year <= quarter.year <= LATEST_DAY.year:
        raise forms.ValidationError(
            f"Quarters before {EARLIEST_DAY.year} or after {LATEST_DAY.year} are not on file."
        )
    return quarter


class MonthField(forms.DateField):
    """A month as "YYYY-MM" (the value of <input type="month">), cleaned to the date of its first day."""

    widget = forms.DateInput(format="%Y-%m", attrs={"type": "month"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(input_formats=["%Y-%m"], validators=_IN_RANGE, **kwargs)


class PlanChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=selectors.health_plans(), required=False, empty_label="All plans", **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class OverviewForm(forms.Form):
    end = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Window ends",
        validators=_IN_RANGE,
    )


class MonthRangeForm(forms.Form):
    start = MonthField(label="From")
    end = MonthField(label="To")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The first month is after the last.")
            if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
                raise forms.ValidationError(f"At most {MAX_MONTHS} months at a time.")
        return data


class PlanMonthRangeForm(MonthRangeForm):
    plan = PlanChoiceField(label="Plan")


class Icd10Form(PlanMonthRangeForm):
    chapter = forms.CharField(max_length=4, required=False, widget=forms.HiddenInput)
    block = forms.CharField(max_length=10, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("block") and not data.get("chapter"):
            raise forms.ValidationError("A block needs its chapter.")
        return data


class QuarterForm(forms.Form):
    quarter = forms.ChoiceField(required=False, label="Quarter")

    def __init__(self, *args: Any, quarters: list[Quarter], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["quarter"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(q.key, str(q)) for q in quarters]

    def clean_quarter(self) -> Quarter | None:
        key = self.cleaned_data["quarter"]
        return _quarter_in_range(Quarter.parse(key)) if key else None


class QuarterParamForm(forms.Form):
    """The JSON endpoint's form: any well-formed quarter, not only those the page offers."""

    quarter = forms.RegexField(regex=r"\A\d{4}Q[1-4]\Z", required=False)

    def clean_quarter(self) -> Quarter | None:
        key = self.cleaned_data["quarter"]
        return _quarter_in_range(Quarter.parse(key)) if key else None


class ProviderForm(forms.Form):
    month = MonthField(label="Month")
    sort = forms.ChoiceField(
        required=False,
        choices=[(f"{sign}{key}", f"{sign}{key}") for key in selectors.PROVIDER_SORTS for sign in ("", "-")],
    )
    # Bounded: an OFFSET beyond bigint is a database error, and no table here has a billion pages.
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)


class ReportForm(forms.Form):
    month = MonthField(label="Month")
    plan = PlanChoiceField(label="Plan")


def quarters_back(last: Quarter, count: int) -> list[Quarter]:
    """``count`` quarters ending with ``last``, newest first."""
    quarters = [last]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters
