"""Presentation of metric values; every value stays auto-escaped."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float) -> str:
    """A proportion or a difference of proportions in percentage points, signed."""
    return f"{value * 100:+.1f}"
