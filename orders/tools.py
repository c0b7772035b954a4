"""`fetch_orders`: the real-time read of a brand's order system.

The model chooses only *whether* to look and, optionally, *which order number*. Whose
orders are read comes from the ticket. An order that belongs to someone else answers
exactly like one that does not exist, so no wording of a ticket or a tool result can
widen access.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.utils import timezone

from copilot.tools import Tool, ToolContext, ToolError, ToolOutput
from orders.connectors import connector_for
from orders.connectors.base import ConnectorError
from orders.models import OrderSource
from orders.schema import Order

logger = logging.getLogger(__name__)

MAX_ORDERS = 3
ORDER_NUMBER_PATTERN = re.compile(r"^#?[A-Za-z0-9][A-Za-z0-9\-]{2,39}$")

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_number": {
            "type": "string",
            "description": (
                "The order number the customer mentions, e.g. 'DEMO-1042'. Leave it out "
                "to get the customer's most recent orders."
            ),
        }
    },
    "additionalProperties": False,
}

DESCRIPTION = (
    "Look up the current status, shipments and tracking of the customer's orders in the "
    "brand's order system. Only this ticket's customer's orders can be returned."
)


def normalize_order_number(value: str) -> str:
    return value.strip().lstrip("#").upper()


def _owned_by(order: Order, email: str) -> bool:
    return bool(email) and order.customer_email.strip().lower() == email.strip().lower()


def fetch_orders(ctx: ToolContext, arguments: dict[str, Any]) -> ToolOutput:
    """Read this ticket's customer's orders; raise ToolError with a stable code on failure."""
    raw_number = arguments.get("order_number")
    if raw_number is not None and not isinstance(raw_number, str):
        raise ToolError("invalid_arguments", "order_number must be a string.")
    number = normalize_order_number(raw_number) if raw_number else ""
    if number and not ORDER_NUMBER_PATTERN.match(number):
        raise ToolError("invalid_arguments", "order_number is not a valid order number.")

    customer = ctx.customer
    email = customer.email if customer else ""
    if not number and not (customer and customer.is_identified):
        raise ToolError(
            "missing_customer_context",
            "The customer is not identified and gave no order number; ask for one.",
        )

    source = OrderSource.objects.filter(brand=ctx.brand).first() or OrderSource(
        brand=ctx.brand, kind=OrderSource.Kind.DEMO
    )
    connector = connector_for(source)
    timeout = min(source.timeout_seconds, ctx.remaining())
    if timeout <= 0:
        raise ToolError("deadline_exceeded", "No time left in this run.", retryable=False)
    try:
        if number:
            found = connector.order_by_number(number=number, timeout=timeout)
            orders = [found] if found and _owned_by(found, email) else []
        else:
            orders = connector.orders_for_customer(email=email, limit=MAX_ORDERS, timeout=timeout)
    except ConnectorError as error:
        logger.warning(
            "orders.fetch_orders.failed",
            extra={"brand": ctx.brand.pk, "code": error.code, "source": source.kind},
        )
        raise ToolError(error.code, error.message, retryable=error.retryable) from error

    read_at = timezone.now()
    data: dict[str, Any] = {
        "source": connector.label,
        "read_at": read_at.isoformat(timespec="seconds"),
        "orders": [order.to_dict(source.allowed_fields) for order in orders],
    }
    if not orders:
        data["message"] = (
            f"No order {number} was found for this customer."
            if number
            else "This customer has no orders."
        )
    return ToolOutput(
        data=data,
        attributes={"source": connector.label, "read_at": data["read_at"], "found": len(orders)},
    )


FETCH_ORDERS = Tool(
    name="fetch_orders",
    description=DESCRIPTION,
    parameters=PARAMETERS,
    handler=fetch_orders,
    needs_customer_context=True,
)
