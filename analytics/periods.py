"""Date ranges the analytics pages compare: day windows, months and quarters (pure, no database).

Every range is inclusive at both ends, as the pages say them ("2026-07-01 to 2026-09-30"); months are the
date of their first day, as the month-grain views store them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (negative: before) ``month``'s month."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return add_months(month, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    @classmethod
    def ending(cls, end: dt.date, days: int) -> Period:
        return cls(end - dt.timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period.ending(self.start - dt.timedelta(days=1), self.days)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class MonthRange:
    """Months ``first`` to ``last`` (first days of their months), both included."""

    first: dt.date
    last: dt.date

    @classmethod
    def ending(cls, last: dt.date, months: int) -> MonthRange:
        last = month_start(last)
        return cls(add_months(last, -(months - 1)), last)

    def months(self) -> list[dt.date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [add_months(self.first, i) for i in range(max(count, 0))]

    def as_period(self) -> Period:
        return Period(self.first, month_end(self.last))

    def __str__(self) -> str:
        if self.first == self.last:
            return f"{self.first:%B %Y}"
        return f"{self.first:%b %Y} to {self.last:%b %Y}"


_QUARTER = re.compile(r"\A(\d{4})Q([1-4])\Z")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, key: str) -> Quarter:
        """``"2026Q3"`` -> Quarter(2026, 3). Raises ValueError for anything else."""
        match = _QUARTER.match(key)
        if not match:
            raise ValueError(f"not a quarter (YYYYQn): {key!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def period(self) -> Period:
        first = dt.date(self.year, 3 * self.number - 2, 1)
        return Period(first, month_end(add_months(first, 2)))

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return f"Q{self.number} {self.year}"


def last_complete_quarter(day: dt.date) -> Quarter:
    """The latest quarter that has ended by the end of ``day``: its own when ``day`` is its last day."""
    quarter = Quarter.of(day)
    return quarter if quarter.period.end == day else quarter.previous()
