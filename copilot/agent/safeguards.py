"""Pure checks the engine applies around every model turn and tool call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from orders.schema import normalize_order_number


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


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to `limit` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit] + "\n[... message truncated ...]", True


WITHHELD_NOT_A_PARAMETER = "[withheld: not a parameter of this tool]"
WITHHELD_NOT_IN_TICKET = "[withheld: not an order number of this ticket]"


@dataclass(frozen=True)
class ScopedArguments:
    """A tool call's arguments after scoping, and what was wrong with them."""

    recorded: dict[str, Any]  # what the trace may keep: foreign values withheld
    unexpected: tuple[str, ...] = ()  # argument names the tool does not declare
    foreign_order_number: bool = False  # an order number neither the ticket nor a result gave


def scope_arguments(
    parameters: dict[str, Any], arguments: dict[str, Any], known_order_numbers: set[str]
) -> ScopedArguments:
    """Check a model's arguments against the tool's declared parameters and the ticket.

    Only declared parameters pass. An `order_number` must be one the customer wrote or one a
    previous result of this run returned: a model talked into probing other numbers gets a
    refusal before any lookup, and the number it made up is never stored in the trace.
    """
    declared = set((parameters.get("properties") or {}).keys())
    unexpected = tuple(sorted(key for key in arguments if key not in declared))
    recorded = {
        key: (value if key in declared else WITHHELD_NOT_A_PARAMETER)
        for key, value in arguments.items()
    }
    foreign = False
    number = arguments.get("order_number")
    if (
        isinstance(number, str)
        and number.strip()
        and normalize_order_number(number) not in known_order_numbers
    ):
        foreign = True
        recorded["order_number"] = WITHHELD_NOT_IN_TICKET
    return ScopedArguments(
        recorded=recorded,
        unexpected=unexpected,
        foreign_order_number=foreign,
    )


def budget_exhausted(*, budget: int, used_today: int, used_in_run: int) -> bool:
    """Whether a brand with a daily token `budget` (0 = none) may not make another call."""
    return budget > 0 and used_today + used_in_run >= budget


def retry_wait(*, attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number `attempt + 1`: the server's Retry-After when it
    gave one, else exponential backoff from half a second."""
    if retry_after is not None and retry_after >= 0:
        return retry_after
    return 0.5 * 2**attempt
