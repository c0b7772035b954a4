"""Reads of the audit app."""

from __future__ import annotations

from typing import Any

from audit.models import Trace

TRACE_FIELDS = (
    "id",
    "ticket_id",
    "draft_id",
    "brand_id",
    "provider",
    "model",
    "prompt_version",
    "plan",
    "outcome",
    "iterations",
    "tool_calls_count",
    "tools_used",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "error_code",
    "grounding",
    "sensitive",
)
SPAN_FIELDS = (
    "seq",
    "kind",
    "name",
    "arguments",
    "result",
    "status",
    "error",
    "attributes",
    "duration_ms",
)


def trace_as_dict(trace: Trace) -> dict[str, Any]:
    """A trace and its spans as plain JSON-ready data."""
    data: dict[str, Any] = {field: getattr(trace, field) for field in TRACE_FIELDS}
    data["created_at"] = trace.created_at.isoformat()
    data["cost"] = str(trace.cost)
    data["spans"] = [
        {
            **{field: getattr(span, field) for field in SPAN_FIELDS},
            "started_at": span.started_at.isoformat(),
        }
        for span in trace.spans.order_by("seq")
    ]
    return data
