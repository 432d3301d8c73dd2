"""How the analytics pages, the PDF report and the JSON endpoints write numbers (one place, so they agree).

Display: money "$1,234.50", rates "12.3%", durations in the largest unit that keeps them readable.
JSON: money as a string with exactly two decimals ("1234.50", exact, never a float); rates as numbers,
fractions 0..1 rounded to 4 decimals; counts as integers; seconds as numbers rounded to 3 decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from analytics.periods import Period

CENT = Decimal("0.01")


def money(value: Decimal | None) -> str:
    if value is None:
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value).quantize(CENT):,}"


def count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def number(value: Decimal | None) -> str:
    """A decimal quantity that is not money (RVUs) with two decimals."""
    return "–" if value is None else f"{value.quantize(CENT):,}"


def pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def duration(seconds: float | None) -> str:
    """``seconds`` as "42 s", "3.5 min", "2.1 h" or "1.5 d"."""
    if seconds is None:
        return "–"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def change(value: float | None, unit: str) -> str:
    """A change as ``Kpi.change`` gives it: percentage points for rates, else a relative change."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{value:+.1f} pp"
    return f"{value * 100:+.1f}%"


def display(value: int | Decimal | float | None, unit: str) -> str:
    if unit == "money":
        return money(value if isinstance(value, Decimal) or value is None else Decimal(value))
    if unit == "rate":
        return pct(None if value is None else float(value))
    if unit == "seconds":
        return duration(None if value is None else float(value))
    return count(None if value is None else int(value))


def timestamp(value: dt.datetime | None) -> str:
    """A UTC time for "data as of": the settings keep TIME_ZONE at UTC, and the page says so."""
    return "never refreshed" if value is None else f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


# -- JSON -------------------------------------------------------------------------------------------------------


def json_money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def json_rate(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def json_seconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def json_period(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}
