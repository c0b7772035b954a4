"""The tool registry: what a model may be offered, by name.

Tools live in their own apps (`orders.tools.FETCH_ORDERS`) and register themselves when
the app is ready, so this module depends on no app. The engine only ever sees `Tool`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from copilot.errors import CodedError

if TYPE_CHECKING:
    from copilot.models import Brand, Customer, Ticket


class ToolError(CodedError):
    """A tool failure the model and the trace are told about as `{code, message, retryable}`;
    each tool names its own codes."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know about the run. The customer comes from here, never from arguments."""

    brand: Brand
    ticket: Ticket
    customer: Customer | None
    ticket_order_numbers: tuple[str, ...]
    deadline: float  # time.monotonic() value past which the tool must give up
    # Shared by every tool call of one run, so a tool never repeats a lookup within a run.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


@dataclass(frozen=True)
class ToolOutput:
    """A tool's answer: `data` goes to the model and, allow-listed, to the trace."""

    data: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)


def has_customer_context(customer: Customer | None, order_number: str | None) -> bool:
    """Whether an order lookup has something to be scoped to: an identified customer, or an
    order number (the engine has checked that the customer gave it)."""
    return bool(order_number) or bool(customer and customer.is_identified)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[[ToolContext, dict[str, Any]], ToolOutput]
    needs_customer_context: bool = False

    def may_run_for(self, customer: Customer | None, arguments: dict[str, Any]) -> bool:
        """The context gate: a tool that needs customer context does not run without it."""
        return not self.needs_customer_context or has_customer_context(
            customer, arguments.get("order_number")
        )

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style function declaration offered to the model."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


_REGISTRY: dict[str, Tool] = {}


def register(tool: Tool) -> None:
    _REGISTRY[tool.name] = tool


def get_tool(name: str) -> Tool | None:
    return _REGISTRY.get(name)


def registered_tool_names() -> list[str]:
    return sorted(_REGISTRY)
