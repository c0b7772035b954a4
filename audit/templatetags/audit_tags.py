"""Presentation of metric values; every value stays auto-escaped."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

RATE_METRICS = frozenset({"acceptance_rate", "tool_call_rate"})


@register.filter
def metric_display(value: Any, metric: str) -> str:
    """A metric value as a lead reads it: rates in percent, none as a dash."""
    if value is None:
        return "\u2013"  # en dash
    if metric in RATE_METRICS:
        return f"{value * 100:.1f} %"
    if metric in {"latency_p50_ms", "latency_p95_ms"} and value == -1:
        return "> 120000"
    return str(value)


@register.filter
def percent(value: float) -> str:
    """A proportion or a difference of proportions in percentage points, signed."""
    return f"{value * 100:+.1f}"
