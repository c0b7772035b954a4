"""Helpers for audit tests: traces recorded through the real `trace_record`."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from audit.services import SpanData, TraceData, trace_record
from tests.factories import DraftFactory


def span(kind: str = "llm", name: str = "chat", **fields: Any) -> SpanData:
    return SpanData(kind=kind, name=name, started_at=timezone.now(), **fields)


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


@pytest.fixture
def make_trace(db):
    """Record a trace for a new ready draft of `brand` (ticket text and customer optional)."""

    def make(brand, *, body: str = "Hi, where is my order?", customer=None, **overrides):
        kwargs: dict[str, Any] = {"ticket__brand": brand, "ticket__body": body}
        if customer is not None:
            kwargs["ticket__customer"] = customer
        draft = DraftFactory(**kwargs)
        return trace_record(draft=draft, data=trace_data(**overrides))

    return make
