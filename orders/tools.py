"""`fetch_orders`: the real-time read of a brand's order system.

The model chooses only *whether* to look and, optionally, *which order number*. Whose
orders are read comes from the ticket. An order that belongs to someone else answers
exactly like one that does not exist, so no wording of a ticket or a tool result can
widen access.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.utils.timezone import now

from copilot.crypto import SecretUnreadable
from copilot.tools import Tool, ToolContext, ToolError, ToolOutput, has_customer_context
from orders.connectors import connector_for
from orders.connectors.base import ConnectorError, ConnectorNotConfigured, OrderConnector
from orders.models import OrderSource
from orders.schema import Order, normalize_order_number
from orders.selectors import order_source_for

logger = logging.getLogger(__name__)

MAX_ORDERS = 3
_MEMO_SOURCE = "orders.source"
_MEMO_CONNECTOR = "orders.connector"
_MEMO_READS = "orders.reads"
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


def _owned_by(order: Order, email: str) -> bool:
    return bool(email) and order.customer_email.strip().lower() == email.strip().lower()


@dataclass(frozen=True)
class _Read:
    """Orders as read once in this run, with when they were read."""

    orders: list[Order]
    read_at: dt.datetime


def _source(ctx: ToolContext) -> OrderSource:
    """The brand's order source (the demo store when it has none), read once per run."""
    if _MEMO_SOURCE not in ctx.memo:
        ctx.memo[_MEMO_SOURCE] = order_source_for(ctx.brand)
    return ctx.memo[_MEMO_SOURCE]


# What a connector is built from, read together so none of it is older than the rest.
_CONNECTION_FIELDS = ("kind", "shop_url", "credentials", "timeout_seconds", "allowed_fields")


def _connector(ctx: ToolContext, source: OrderSource) -> OrderConnector:
    """One connector per run, so its own caches (states, carriers...) serve every call.

    A draft run reads the source with its credentials deferred; they are read here with the
    settings they belong to, so an admin saving the source mid-run never pairs the old shop
    URL with the new secret.
    """
    if _MEMO_CONNECTOR not in ctx.memo:
        if source.kind in OrderSource.CREDENTIAL_KEYS and "credentials" in (
            source.get_deferred_fields()
        ):
            try:
                source.refresh_from_db(fields=_CONNECTION_FIELDS)
            except OrderSource.DoesNotExist:
                raise ConnectorNotConfigured(
                    "The brand's order source was removed while this draft was written."
                ) from None
        ctx.memo[_MEMO_CONNECTOR] = connector_for(source)
    return ctx.memo[_MEMO_CONNECTOR]


def _lookup(
    ctx: ToolContext, connector: OrderConnector, *, number: str, email: str, timeout: float
) -> tuple[_Read, bool]:
    """The orders for this call and whether they came from an earlier read in this run."""
    reads: dict[tuple[str, str], _Read] = ctx.memo.setdefault(_MEMO_READS, {})
    recent = reads.get(("recent", email.lower()))
    if number:
        known = reads.get(("number", number))
        if known is not None:
            return known, True
        if recent is not None:
            matches = [o for o in recent.orders if normalize_order_number(o.number) == number]
            if matches:
                return _Read(orders=matches, read_at=recent.read_at), True
        found = connector.order_by_number(number=number, timeout=timeout)
        read = _Read(orders=[found] if found and _owned_by(found, email) else [], read_at=now())
        reads[("number", number)] = read
        return read, False
    if recent is not None:
        return recent, True
    orders = connector.orders_for_customer(email=email, limit=MAX_ORDERS, timeout=timeout)
    read = _Read(orders=[o for o in orders if _owned_by(o, email)], read_at=now())
    reads[("recent", email.lower())] = read
    return read, False


def fetch_orders(ctx: ToolContext, arguments: dict[str, Any]) -> ToolOutput:
    """Read this ticket's customer's orders; raise ToolError with a stable code on failure.

    Each lookup is made at most once per run; the result says which system answered and
    when it was read, and holds only the fields the brand allows.
    """
    raw_number = arguments.get("order_number")
    if raw_number is not None and not isinstance(raw_number, str):
        raise ToolError("invalid_arguments", "order_number must be a string.")
    number = normalize_order_number(raw_number) if raw_number else ""
    if number and not ORDER_NUMBER_PATTERN.match(number):
        raise ToolError("invalid_arguments", "order_number is not a valid order number.")

    customer = ctx.customer
    email = customer.email if customer else ""
    if not has_customer_context(customer, number):
        raise ToolError(
            "missing_customer_context",
            "The customer is not identified and gave no order number; ask for one.",
        )

    try:
        source = _source(ctx)
        connector = _connector(ctx, source)  # decrypts the source's credential, if it has one
        timeout = ctx.remaining()
        if timeout <= 0:
            raise ToolError("deadline_exceeded", "No time left in this run.", retryable=False)
        read, cached = _lookup(ctx, connector, number=number, email=email, timeout=timeout)
    except SecretUnreadable as error:
        logger.error("orders.fetch_orders.secret_unreadable", extra={"brand": ctx.brand.pk})
        raise ToolError(error.code, "The order source's credentials cannot be read.") from error
    except ConnectorError as error:
        logger.warning(
            "orders.fetch_orders.failed",
            extra={"brand": ctx.brand.pk, "code": error.code, "source": source.kind},
        )
        raise ToolError(error.code, error.message, retryable=error.retryable) from error

    data: dict[str, Any] = {
        "source": connector.label,
        "read_at": read.read_at.isoformat(timespec="seconds"),
        "orders": [order.to_dict(source.allowed_fields) for order in read.orders],
    }
    if not read.orders:
        data["message"] = (
            f"No order {number} was found for this customer."
            if number
            else "This customer has no orders."
        )
    return ToolOutput(
        data=data,
        attributes={
            "source": connector.label,
            "read_at": data["read_at"],
            "found": len(read.orders),
            "cached": cached,
        },
    )


FETCH_ORDERS = Tool(
    name="fetch_orders",
    description=DESCRIPTION,
    parameters=PARAMETERS,
    handler=fetch_orders,
    needs_customer_context=True,
)
