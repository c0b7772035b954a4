"""Traces for tests, recorded through the real `audit.services.trace_record`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.models import Trace
from audit.records import SpanData, TraceData
from audit.services import trace_record
from copilot.models import Draft


def span(kind: str = "llm", name: str = "chat", **fields: Any) -> SpanData:
    fields.setdefault("duration_ms", 12)
    return SpanData(kind=kind, name=name, started_at=timezone.now(), **fields)


def tool_span(**fields: Any) -> SpanData:
    fields.setdefault("arguments", {"order_number": "NW-1"})
    fields.setdefault("result", {"orders": [{"number": "NW-1", "status": "in_transit"}]})
    fields.setdefault("attributes", {"source": "Shopify", "read_at": "2026-11-26T10:42:07+00:00"})
    return span("tool", "fetch_orders", **fields)


def grounding_span(label: str, unverified: list[dict[str, Any]]) -> SpanData:
    return span(
        "guardrail",
        "grounding_check",
        result={"label": label, "unverified": unverified},
    )


def trace_data(**overrides: Any) -> TraceData:
    values: dict[str, Any] = {
        "provider": "rules",
        "model": "",
        "prompt_version": "v1",
        "plan": {
            "arm": "treatment",
            "stage": "on",
            "bucket": 7,
            "available_tools": ["fetch_orders"],
        },
        "outcome": "answered",
        "iterations": 1,
        "tool_calls_count": 0,
        "tools_used": [],
        "tokens_in": 100,
        "tokens_out": 20,
        "latency_ms": 120,
        "spans": [span()],
    }
    values.update(overrides)
    return TraceData(**values)


def record_trace(draft: Draft, spans: list[SpanData], **fields: Any) -> Trace:
    """Store a two-turn trace of `draft` with `spans`."""
    values: dict[str, Any] = {
        "model": "rules-v1",
        "iterations": 2,
        "tool_calls_count": sum(s.kind == "tool" for s in spans),
        "tools_used": ["fetch_orders"],
        "tokens_in": 10,
        "spans": spans,
    }
    return trace_record(draft=draft, data=trace_data(**{**values, **fields}))
