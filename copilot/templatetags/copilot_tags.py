"""Small presentation helpers; every value stays auto-escaped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for the raw view of span data (escaped by the template, like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def flat_items(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested data as (dotted key, scalar text) rows for the readable key / value view."""
    rows: list[tuple[str, str]] = []

    def walk(item: Any, path: str) -> None:
        if isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(item, list):
            if not item:
                rows.append((path, "(none)"))
            for index, child in enumerate(item):
                walk(child, f"{path}[{index}]")
        else:
            rows.append((path, "" if item is None else str(item)))

    walk(value, prefix)
    return rows


# --- Safeguards and errors in plain words ---------------------------------------------------

SAFEGUARD_WORDS: dict[str, str] = {
    "missing_customer_context": "fetch_orders blocked: no customer email or order number",
    "repeated_call": "Repeated call refused: the same tool was already called with the same arguments",
    "loop_limit": "Stopped: too many model turns without an answer",
    "ticket_truncated": "The ticket was too long and was shortened before the model read it",
    "tool_not_available": "The model asked for a tool that is not available for this brand",
    "deadline": "Stopped: the run reached its time limit",
}


@register.filter
def plain_error(error: Any) -> str:
    """A span's `{code, message}` error as a sentence an agent understands.

    Known safeguard codes get fixed wording; anything else falls back to the message (or
    the code when there is no message).
    """
    if not isinstance(error, dict):
        return ""
    code = str(error.get("code") or "")
    return SAFEGUARD_WORDS.get(code) or str(error.get("message") or code or "Unknown error")


def _clock(value: Any) -> str:
    """An ISO timestamp as HH:MM in the current time zone; the raw text when it is not one."""
    moment = parse_datetime(str(value)) if value else None
    if moment is None:
        return str(value or "")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%H:%M")


@register.filter
def source_line(attributes: Any) -> str:
    """'order data from Shopify, read at 10:42' from a tool span's attributes ('' if none)."""
    if not isinstance(attributes, dict) or not attributes.get("source"):
        return ""
    line = f"order data from {attributes['source']}"
    if attributes.get("read_at"):
        line += f", read at {_clock(attributes['read_at'])}"
    return line


@register.filter
def trace_source_line(trace: Any) -> str:
    """The source line of the first tool span that read data (uses the prefetched spans)."""
    for span in trace.spans.all() if trace is not None else ():
        line = source_line(span.attributes) if span.kind == "tool" else ""
        if line:
            return line[0].upper() + line[1:]
    return ""


@register.filter
def step_words(step: dict[str, Any]) -> str:
    """One live-progress step (see copilot.progress) as a short sentence."""
    if step.get("error") and step.get("kind") == "guardrail":
        return plain_error(step["error"])
    if step.get("kind") == "llm":
        if step.get("status") != "ok":
            return "Model call failed: " + plain_error(step.get("error"))
        if step.get("tool_calls"):
            return "Planned: call " + ", ".join(step["tool_calls"])
        return "Wrote the reply"
    if step.get("kind") == "tool":
        if step.get("status") != "ok":
            return f"{step.get('name')} failed: " + plain_error(step.get("error"))
        source = source_line({"source": step.get("source"), "read_at": step.get("read_at")})
        return f"Called {step.get('name')}" + (f" ({source})" if source else "")
    return str(step.get("name", ""))


@register.filter
def span_title(span: Any) -> str:
    """A span's headline: what the step was, in words."""
    if span.kind == "llm":
        model = (span.attributes or {}).get("gen_ai.response.model") or (span.attributes or {}).get(
            "gen_ai.request.model"
        )
        calls = [c.get("name") for c in (span.result or {}).get("tool_calls", []) if c]
        what = "decided to call " + ", ".join(map(str, calls)) if calls else "wrote the reply"
        if span.status != "ok":
            what = "failed"
        return f"Model call{f' ({model})' if model else ''}: {what}"
    if span.name == "grounding_check":
        result = span.result if isinstance(span.result, dict) else {}
        flagged = len(result.get("unverified") or [])
        label = str(result.get("label") or "done")
        return f"Grounding check: {label}" + (f", {flagged} unverified fact(s)" if flagged else "")
    if span.kind == "guardrail":
        return f"Safeguard: {span.name}"
    return f"Tool: {span.name}"


# --- Grounding ------------------------------------------------------------------------------

GROUNDING_WORDS: dict[str, str] = {
    "grounded": "Grounded: uses data the copilot fetched",
    "generative": "Generative: no order data used",
    "unverified": "Unverified: states facts no source backs",
}


@register.filter
def grounding_words(label: str) -> str:
    return GROUNDING_WORDS.get(label or "", "")


@register.filter
def grounding_span(trace: Any) -> Any:
    """The trace's `grounding_check` span, if the run recorded one (prefetched spans)."""
    for span in trace.spans.all() if trace is not None else ():
        if span.name == "grounding_check":
            return span
    return None


@register.filter
def grounding_label(trace: Any) -> str:
    """The trace's grounding label, falling back to the grounding span's result."""
    if trace is None:
        return ""
    span = grounding_span(trace)
    result = span.result if span is not None and isinstance(span.result, dict) else {}
    label = trace.grounding or str(result.get("label") or "")
    return label if label in GROUNDING_WORDS else ""


@dataclass(frozen=True)
class Segment:
    text: str
    flagged: bool
    kind: str = ""


@register.filter
def unverified_segments(body: str, trace: Any) -> list[Segment]:
    """The draft body cut into plain and unverified segments (from the grounding span).

    Offsets that are out of range, overlapping, or do not match the quoted text are
    dropped, so a stale or malformed span never garbles the draft. The template escapes
    every segment; nothing here marks text safe. Returns [] when nothing is unverified.
    """
    span = grounding_span(trace)
    result = span.result if span is not None and isinstance(span.result, dict) else {}
    marks: list[tuple[int, int, str]] = []
    for item in result.get("unverified") or []:
        if not isinstance(item, dict):
            continue
        start, end = item.get("start"), item.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(body)):
            continue
        if item.get("text") not in (None, body[start:end]):
            continue
        marks.append((start, end, str(item.get("kind") or "")))
    segments: list[Segment] = []
    cursor = 0
    for start, end, kind in sorted(marks):
        if start < cursor:
            continue
        if start > cursor:
            segments.append(Segment(body[cursor:start], False))
        segments.append(Segment(body[start:end], True, kind))
        cursor = end
    if not segments:
        return []
    if cursor < len(body):
        segments.append(Segment(body[cursor:], False))
    return segments
