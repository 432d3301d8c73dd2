"""Template filters of the ops pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def bytes(value: int | None) -> str:  # noqa: A001 - the name reads naturally in templates
    """1536 -> "1.5 kB": binary units, one decimal."""
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
