"""Which of a brand's rules make a run sensitive, so a lead reviews it (and may hold it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from audit.models import AuditPolicy, Span, Trace
from copilot.text import fold
from orders.quality import TITLES

if TYPE_CHECKING:
    from audit.records import SpanData
    from copilot.models import Customer

# A money amount next to a currency sign or code: "€1 200", "1,250.50 EUR", "300 euros".
_NUMBER = r"\d{1,3}(?:[ ,.\u202f]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
AMOUNT = re.compile(
    rf"(?:[€$£]\s?(?P<before>{_NUMBER}))"
    rf"|(?:(?P<after>{_NUMBER})\s?(?:[€$£]|eur\b|euros?\b|usd\b|dollars?\b|gbp\b|chf\b))",
    re.IGNORECASE,
)

# The reason of a run whose order data has a finding that needs review, before its code.
ORDER_FINDING = "order_finding"
_REASON_WORDS = {
    "vip_customer": "VIP customer",
    "tool_error": "a tool failed",
    "safeguard_fired": "a safeguard fired",
    "unverified_facts": "the draft states facts no source backs",
}


def _parse_amount(raw: str) -> Decimal | None:
    raw = raw.replace("\u202f", " ").replace(" ", "")
    # The last separator followed by 1-2 digits is the decimal point; others group thousands.
    match = re.match(r"^(.*?)(?:[.,](\d{1,2}))?$", raw)
    if not match:
        return None
    whole = re.sub(r"[.,]", "", match.group(1))
    try:
        return Decimal(f"{whole}.{match.group(2) or '0'}")
    except InvalidOperation:
        return None


def amounts_in(text: str) -> list[Decimal]:
    """Money amounts written in `text`."""
    found = []
    for match in AMOUNT.finditer(text):
        value = _parse_amount(match.group("before") or match.group("after"))
        if value is not None:
            found.append(value)
    return found


def keywords_in(text: str, keywords: Iterable[str]) -> list[str]:
    """The keywords `text` contains as words (or word stems: 'refund' finds 'refunded'),
    ignoring case and accents."""
    folded = fold(text)
    return [
        keyword
        for keyword in keywords
        if keyword.strip()
        and re.search(rf"\b{re.escape(fold(keyword.strip()))}\w*", folded) is not None
    ]


def _order_totals(spans: Iterable[SpanData]) -> list[Decimal]:
    totals = []
    for order in _orders_of(spans):
        if order.get("total") not in (None, ""):
            try:
                totals.append(Decimal(str(order["total"])))
            except InvalidOperation:
                continue
    return totals


def _orders_of(spans: Iterable[SpanData]) -> Iterator[dict[str, Any]]:
    """The orders the run's tool spans returned."""
    for span in spans:
        result: Any = span.result
        if span.kind != Span.Kind.TOOL or not isinstance(result, dict):
            continue
        for order in result.get("orders") or []:
            if isinstance(order, dict):
                yield order


def review_findings(spans: Iterable[SpanData]) -> list[str]:
    """The codes of the run's order-data findings, in the order first seen. Every finding
    sends the run to the leads: an order whose data cannot be trusted is one a person
    checks before a reply goes out."""
    codes: dict[str, None] = {}
    for order in _orders_of(spans):
        for finding in order.get("findings") or []:
            if isinstance(finding, dict):
                codes.setdefault(str(finding.get("code")), None)
    return list(codes)


def sensitive_reasons(
    *,
    policy: AuditPolicy,
    ticket_text: str,
    customer: Customer | None,
    spans: list[SpanData],
    grounding: str,
) -> list[str]:
    """The reasons (stable codes, some with a detail after ':') this run is sensitive."""
    reasons = [f"keyword:{word}" for word in keywords_in(ticket_text, policy.keywords)]
    threshold = policy.amount_threshold
    if threshold is not None:
        largest = max([*amounts_in(ticket_text), *_order_totals(spans)], default=None)
        if largest is not None and largest > threshold:
            reasons.append(f"amount_over_threshold:{largest}")
    vips = {str(v).strip().casefold() for v in policy.vip_customers}
    if customer is not None and vips & {
        customer.external_id.casefold(),
        customer.email.casefold(),
    } - {""}:
        reasons.append("vip_customer")
    if policy.flag_tool_errors and any(
        s.kind == Span.Kind.TOOL and s.status == Span.Status.ERROR for s in spans
    ):
        reasons.append("tool_error")
    if policy.flag_safeguards and any(
        s.kind == Span.Kind.GUARDRAIL and s.status == Span.Status.BLOCKED for s in spans
    ):
        reasons.append("safeguard_fired")
    if policy.flag_unverified and grounding == Trace.Grounding.UNVERIFIED:
        reasons.append("unverified_facts")
    reasons += [f"{ORDER_FINDING}:{code}" for code in review_findings(spans)]
    return reasons


def reason_words(reason: str) -> str:
    """A stored reason (`keyword:refund`, `order_finding:no_movement`...) as words for leads."""
    code, _, detail = str(reason).partition(":")
    if code == "keyword":
        return f"mentions \u201c{detail}\u201d"
    if code == "amount_over_threshold":
        return f"amount over the limit ({detail})"
    if code == ORDER_FINDING:
        return "order data: " + TITLES.get(detail, "a problem in the order data").lower()
    return _REASON_WORDS.get(code, code.replace("_", " "))
