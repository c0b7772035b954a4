"""Masking of personal data in spans before they are stored.

A trace is kept for a long time and read by more people than the ticket, so what a tool
returned is stored only as far as the brand allows: order fields outside the brand's
allow-list (`orders.OrderSource.allowed_fields`) are replaced by a marker, and emails,
phone numbers and street addresses in free text are masked, except in a contact field the
brand explicitly allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from orders.models import OrderSource
from orders.schema import DEFAULT_ALLOWED_FIELDS
from orders.selectors import order_source_for

if TYPE_CHECKING:
    from audit.records import SpanData
    from copilot.models import Brand

REDACTED = "[redacted]"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An international or national phone number: 8+ digits with spaces, dots, dashes, brackets.
PHONE = re.compile(r"(?<![\w-])(?:\+|\(\s*)?\d(?:[\s().-]*\d){7,14}(?![\w-])")
STREET = re.compile(
    r"\b\d{1,5}(?:\s?(?:bis|ter|[a-z]))?,?\s+"
    r"(?:(?:rue|avenue|av\.?|boulevard|bd|chemin|allée|allee|impasse|place|quai|route)\s+[^\n,;]{2,60}"
    r"|(?:[A-Za-z][\w'.-]*\s+){1,4}(?:street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?"
    r"|boulevard|blvd\.?|way|court|ct\.?|place|pl\.?|terrace|strasse|straße))\b",
    re.IGNORECASE,
)
CONTACT_FIELDS = frozenset({"customer_email", "phone", "shipping_address"})
# Identifiers, dates and amounts in a tool result are data, not free text: a ten-digit
# tracking number must not be mistaken for a phone number.
STRUCTURED_FIELDS = frozenset(
    {
        "number",
        "order_number",
        "tracking_number",
        "tracking_url",
        "created_at",
        "read_at",
        "time",
        "estimated_delivery",
        "expected_delivery",  # the carrier's own estimate
        "checked_at",  # when the carrier was asked
        "total",
        "currency",
        "quantity",
        "status",
        "code",
    }
)
ORDER_TOOLS = frozenset({"fetch_orders"})
# An order's data-quality findings (`orders.quality`) are kept whatever the allow-list:
# their evidence already withholds the values of fields the brand hides.
FINDINGS = "findings"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?")


def mask_text(text: str) -> str:
    """`text` with emails, phone numbers and street addresses masked."""
    text = EMAIL.sub("[email]", text)
    text = STREET.sub("[address]", text)
    return PHONE.sub("[phone]", text)


def _mask(value: Any, keep: frozenset[str]) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask(item, keep) for item in value]
    if isinstance(value, dict):
        return {key: item if key in keep else _mask(item, keep) for key, item in value.items()}
    return value


def _mask_findings(findings: Any) -> Any:
    """Findings with their free text masked, except the parcel (a tracking number) and the
    evidence values that are dates or times (`PHONE` would take "2026-12-01" for a phone
    number)."""
    if not isinstance(findings, list):
        return _mask(findings, frozenset())
    return [
        {**_mask(finding, frozenset({"evidence"})), "evidence": _mask_evidence(finding)}
        if isinstance(finding, dict)
        else _mask(finding, frozenset())
        for finding in findings
    ]


def _mask_evidence(finding: dict[str, Any]) -> list[Any]:
    evidence = finding.get("evidence")
    return [
        {
            key: value
            if key == "parcel"
            or (key == "value" and isinstance(value, str) and _TIMESTAMP.fullmatch(value))
            else _mask(value, frozenset())
            for key, value in item.items()
        }
        if isinstance(item, dict)
        else _mask(item, frozenset())
        for item in (evidence if isinstance(evidence, list) else [])
    ]


def _restrict_orders(result: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    orders = result.get("orders")
    if not isinstance(orders, list):
        return result
    return {
        **result,
        "orders": [
            {
                key: _mask_findings(value)
                if key == FINDINGS
                else (value if key in allowed else REDACTED)
                for key, value in order.items()
            }
            if isinstance(order, dict)
            else order
            for order in orders
        ],
    }


def allowed_fields_for(brand: Brand) -> frozenset[str]:
    """The order fields this brand lets the trace keep.

    When the brand's order source is not loaded yet, only its allow-list is read: storing a
    trace never depends on decrypting the source's credentials.
    """
    if type(brand).order_source.is_cached(brand):
        return frozenset(order_source_for(brand).allowed_fields)
    stored = (
        OrderSource.objects.filter(brand=brand).values_list("allowed_fields", flat=True).first()
    )
    return frozenset(DEFAULT_ALLOWED_FIELDS if stored is None else stored)


def redact_spans(spans: Iterable[SpanData], allowed: frozenset[str]) -> list[SpanData]:
    """Tool spans with their arguments, results and errors masked; other spans unchanged."""
    keep = (allowed & CONTACT_FIELDS) | STRUCTURED_FIELDS
    redacted = []
    for span in spans:
        if span.kind != "tool":
            redacted.append(span)
            continue
        result = span.result
        if span.name in ORDER_TOOLS and isinstance(result, dict):
            # Findings are masked their own way by `_restrict_orders`.
            result = _mask(_restrict_orders(result, allowed), keep | {FINDINGS})
        else:
            result = _mask(result, keep)
        redacted.append(
            replace(
                span,
                arguments=_mask(span.arguments, keep),
                result=result,
                error=_mask(span.error, STRUCTURED_FIELDS),
            )
        )
    return redacted
