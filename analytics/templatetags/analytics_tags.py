"""Number formats and query-string links for the analytics templates (analytics.formatting does the work)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import template
from django.utils.http import urlencode

from analytics import formatting
from analytics.selectors import Kpi

register = template.Library()

register.filter("money", formatting.money)
register.filter("count", formatting.count)
register.filter("pct", formatting.pct)
register.filter("number", formatting.number)
register.filter("duration", formatting.duration)
register.filter("as_of", formatting.timestamp)


@register.filter
def kpi_current(kpi: Kpi) -> str:
    return formatting.display(kpi.current, kpi.unit)


@register.filter
def kpi_previous(kpi: Kpi) -> str:
    return formatting.display(kpi.previous, kpi.unit)


@register.filter
def kpi_change(kpi: Kpi) -> str:
    return formatting.change(kpi.change, kpi.unit)


@register.filter
def money_or_blank(value: Decimal | None) -> str:
    return "" if value is None else formatting.money(value)


@register.simple_tag
def with_params(params: Mapping[str, Any], **changes: Any) -> str:
    """``?`` plus ``params`` with ``changes`` applied; a change to None or "" drops the parameter.

    The pages pass their resolved parameters (defaults filled in), so a link keeps the window a person sees.
    """
    merged = {**params, **changes}
    return "?" + urlencode({key: value for key, value in merged.items() if value not in (None, "")})
