"""Presentation of metric values; every value stays auto-escaped."""

from __future__ import annotations

from typing import Any

from django import template

from audit.sensitivity import reason_words

register = template.Library()


@register.filter
def percent(value: float) -> str:
    """A proportion or a difference of proportions in percentage points, signed."""
    return f"{value * 100:+.1f}"


@register.filter
def sensitive_words(reasons: Any) -> str:
    """A trace's sensitivity reasons as words: "order data: ...; mentions “refund”"."""
    return "; ".join(reason_words(reason) for reason in reasons or [])
