"""Live progress of a draft being written: the steps recorded so far, kept in the cache.

The engine calls back with each span as it lands (`engine.run(on_span=...)`); `recorder`
turns those into small step dicts stored under the draft's key, and the polling draft
panel reads them back. The cache must be shared by workers and web processes
(`CACHE_URL`) for this to show across machines; progress is best effort and never fails a
run. Once the trace is stored the panel shows the trace instead and the steps are cleared.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from audit.records import SpanData

logger = logging.getLogger(__name__)

PROGRESS_TTL_SECONDS = 60 * 60
MAX_STEPS = 50


def _key(draft_id: int) -> str:
    return f"copilot:progress:{draft_id}"


def step_from_span(span: SpanData) -> dict[str, Any]:
    """The parts of a span the progress list shows; plain JSON for any cache backend."""
    result = span.result if isinstance(span.result, dict) else {}
    tool_calls = result.get("tool_calls") or []
    error = span.error if isinstance(span.error, dict) else None
    attributes = span.attributes if isinstance(span.attributes, dict) else {}
    return {
        "kind": span.kind,
        "name": span.name,
        "status": span.status,
        "duration_ms": span.duration_ms,
        "tool_calls": [str(call.get("name", "")) for call in tool_calls if isinstance(call, dict)],
        "error": {"code": str(error.get("code", "")), "message": str(error.get("message", ""))}
        if error
        else None,
        "source": str(attributes.get("source", "")),
        "read_at": str(attributes.get("read_at", "")),
        "findings": len(attributes.get("findings") or []),
    }


def progress_record(*, draft_id: int, span: SpanData) -> None:
    """Append `span` as a step of draft `draft_id`'s progress; never raises."""
    try:
        steps = cache.get(_key(draft_id)) or []
        steps.append(step_from_span(span))
        cache.set(_key(draft_id), steps[-MAX_STEPS:], PROGRESS_TTL_SECONDS)
    except Exception:  # the cache being down must not fail the run it reports on
        logger.warning("copilot.progress.record_failed", extra={"draft": draft_id}, exc_info=True)


def recorder(draft_id: int) -> Callable[[SpanData], None]:
    """An `on_span` callback for `engine.run` that records the steps of draft `draft_id`."""

    def record(span: SpanData) -> None:
        progress_record(draft_id=draft_id, span=span)

    return record


def progress_steps(*, draft_id: int) -> list[dict[str, Any]]:
    """The steps recorded so far for draft `draft_id`, oldest first (empty when unknown)."""
    try:
        return list(cache.get(_key(draft_id)) or [])
    except Exception:
        logger.warning("copilot.progress.read_failed", extra={"draft": draft_id}, exc_info=True)
        return []


def next_step(steps: list[dict[str, Any]]) -> str:
    """What the copilot is doing now, in plain words, judged from the last step recorded."""
    if not steps:
        return "Planning"
    last = steps[-1]
    if last["kind"] == "llm" and last["tool_calls"]:
        return "Calling " + ", ".join(last["tool_calls"])
    return "Writing the reply"


def progress_clear(*, draft_id: int) -> None:
    """Forget draft `draft_id`'s steps (its trace now tells the whole story)."""
    try:
        cache.delete(_key(draft_id))
    except Exception:
        logger.warning("copilot.progress.clear_failed", extra={"draft": draft_id}, exc_info=True)
