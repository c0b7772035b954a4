"""What the engine hands the audit to store: a run's trace and its spans as plain data,
collected while the run goes and written once by `audit.services.trace_record`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from audit.models import Span


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
