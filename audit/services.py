"""Writes of the audit app: a trace is written once, with all its spans, and never changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from audit.models import Span, Trace
from copilot.models import Draft


@dataclass
class SpanData:
    """A span as the engine collects it, before it is stored."""

    kind: str
    name: str
    started_at: dt.datetime
    duration_ms: int = 0
    arguments: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    status: str = Span.Status.OK
    error: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class TraceData:
    provider: str
    model: str
    prompt_version: str
    plan: dict[str, Any]
    outcome: str
    iterations: int
    tool_calls_count: int
    tools_used: list[str]
    tokens_in: int
    tokens_out: int
    latency_ms: int
    error_code: str = ""
    grounding: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    cost: Decimal = Decimal("0")
    sensitive: bool = False
    spans: list[SpanData] = field(default_factory=list)


def trace_record(*, draft: Draft, data: TraceData) -> Trace:
    """Store the trace of `draft`'s run with its spans in order, in one transaction."""
    with transaction.atomic():
        trace = Trace.objects.create(
            brand_id=draft.ticket.brand_id,
            ticket_id=draft.ticket_id,
            draft=draft,
            provider=data.provider,
            model=data.model,
            prompt_version=data.prompt_version,
            plan=data.plan,
            config=data.config,
            outcome=data.outcome,
            iterations=data.iterations,
            tool_calls_count=data.tool_calls_count,
            tools_used=data.tools_used,
            tokens_in=data.tokens_in,
            tokens_out=data.tokens_out,
            cost=data.cost,
            latency_ms=data.latency_ms,
            error_code=data.error_code,
            grounding=data.grounding,
            sensitive=data.sensitive,
        )
        Span.objects.bulk_create(
            Span(
                trace=trace,
                seq=seq,
                kind=span.kind,
                name=span.name,
                arguments=span.arguments,
                result=span.result,
                status=span.status,
                error=span.error,
                attributes=span.attributes,
                started_at=span.started_at,
                duration_ms=span.duration_ms,
            )
            for seq, span in enumerate(data.spans, start=1)
        )
    return trace
