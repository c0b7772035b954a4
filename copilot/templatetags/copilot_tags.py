"""Small presentation helpers; every value stays auto-escaped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_date, parse_datetime

from orders import quality
from orders.schema import STATUS_LABELS, OrderStatus

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
        found = step.get("findings") or 0
        problems = f"; {found} problem{'s' if found > 1 else ''} in the order data" if found else ""
        return f"Called {step.get('name')}" + (f" ({source}{problems})" if source else "")
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


# What an unverified span of the draft claims, in words (grounding's fact kinds).
FACT_KINDS = {
    "order_number": "order number",
    "tracking_number": "tracking number",
    "reference": "reference",
    "carrier": "carrier",
    "date": "date",
    "weekday": "day of the week",
    "relative_date": "date",
    "amount": "amount",
    "status": "delivery status",
    "item": "item",
}


@dataclass(frozen=True)
class Segment:
    text: str
    flagged: bool
    kind: str = ""

    @property
    def claim(self) -> str:
        """What the flagged text claims, in words ("Unverified delivery status")."""
        return FACT_KINDS.get(self.kind, "fact")


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


# --- Order-data findings ----------------------------------------------------------------------

_EVIDENCE_FIELDS = {
    "status": "status",
    "last_scan": "last scan",
    "estimated_delivery": "expected delivery",
    "expected_delivery": "expected delivery",
    "tracking_number": "tracking number",
    "financial_status": "payment",
    "cancelled_at": "cancelled on",
    "read_at": "read at",
    "checked_at": "checked at",
    "carrier_tracking": "tracking",
}
_STATUSES = frozenset(status.value for status in OrderStatus)
_EVIDENCE_VALUES = {
    quality.HIDDEN: "hidden by the brand's settings",
    quality.NONE: "none",
    quality.NOT_READ: "could not be read",
}


def _value_words(value: str) -> str:
    """An evidence value for people: a status's label, a date or time in short, or as is."""
    if value in _EVIDENCE_VALUES:
        return _EVIDENCE_VALUES[value]
    if value in _STATUSES:
        return STATUS_LABELS[OrderStatus(value)]
    try:
        moment = parse_datetime(value) if "T" in value else None
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:  # shaped like a date, but not one
        return value
    if moment is not None:
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return dateformat.format(moment, "M j, H:i")
    return dateformat.format(day, "M j, Y") if day is not None else value


def _evidence_words(item: Any) -> str:
    """One evidence item as "Shopify: status delivered"."""
    if not isinstance(item, dict):
        return ""
    field = str(item.get("field") or "")
    what = _EVIDENCE_FIELDS.get(field, field.replace("_", " "))
    value = _value_words(str(item.get("value") or ""))
    return f"{item.get('source') or 'Unknown source'}: {what} {value}"


@dataclass(frozen=True)
class FindingView:
    order: str
    title: str
    severity: str  # "critical" or "warning", for the style
    severity_words: str
    message: str
    evidence: list[str]


@register.filter
def order_findings(result: Any) -> list[FindingView]:
    """The data-quality findings of the orders in a fetch_orders result, in words."""
    if not isinstance(result, dict):
        return []
    views = []
    for order in result.get("orders") or []:
        if not isinstance(order, dict):
            continue
        for finding in order.get("findings") or []:
            if not isinstance(finding, dict):
                continue
            code, severity = str(finding.get("code")), str(finding.get("severity"))
            views.append(
                FindingView(
                    order=str(order.get("number") or ""),
                    title=quality.TITLES.get(code, "A problem in the order data"),
                    severity=severity,
                    severity_words=quality.SEVERITY_WORDS.get(severity, "Check"),
                    message=str(finding.get("message") or ""),
                    evidence=[_evidence_words(e) for e in finding.get("evidence") or []],
                )
            )
    return views


@register.filter
def trace_findings(trace: Any) -> list[FindingView]:
    """Every finding of the trace's tool spans, each title once (uses the prefetched spans)."""
    seen: dict[tuple[str, str], FindingView] = {}
    for span in trace.spans.all() if trace is not None else ():
        if span.kind == "tool":
            for view in order_findings(span.result):
                seen.setdefault((view.order, view.title), view)
    return list(seen.values())


@register.filter
def without_findings(result: Any) -> Any:
    """A tool result without its orders' findings, which the panel shows in words instead."""
    if not isinstance(result, dict) or not isinstance(result.get("orders"), list):
        return result
    return {
        **result,
        "orders": [
            {k: v for k, v in order.items() if k != "findings"}
            if isinstance(order, dict)
            else order
            for order in result["orders"]
        ],
    }
