"""Pure checks the engine applies around every model turn and tool call."""

from __future__ import annotations

import json
from typing import Any

from copilot.models import Customer


def call_key(name: str, arguments: dict[str, Any]) -> str:
    """A tool call's identity for repeat detection: name + arguments, normalized."""

    def normalize(value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lstrip("#").upper()
        if isinstance(value, dict):
            return {k: normalize(v) for k, v in value.items() if v not in (None, "")}
        if isinstance(value, list):
            return [normalize(v) for v in value]
        return value

    return f"{name}:{json.dumps(normalize(arguments), sort_keys=True)}"


def has_customer_context(customer: Customer | None, order_numbers: tuple[str, ...]) -> bool:
    """Whether there is anything to scope an order lookup to: a verified customer or a number."""
    return bool(order_numbers) or bool(customer and customer.is_identified)


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to `limit` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit] + "\n[... message truncated ...]", True
