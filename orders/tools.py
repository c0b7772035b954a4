"""`fetch_orders`: the real-time read of a brand's order system.

The model chooses only *whether* to look and, optionally, *which order number* or *which
of the customer's parcels*. Whose orders are read comes from the ticket. An order that
belongs to someone else answers exactly like one that does not exist, so no wording of a
ticket or a tool result can widen access.

Once the customer's own orders are read, the carrier of each parcel on them is asked too
(the brand's `CarrierSource`, see `orders.carriers`), in the same call, within the same
deadline. Only tracking numbers read from those orders are ever sent to a carrier: a
tracking number the model passes only selects one of them, and one that is not on them is
refused before any carrier is asked. A carrier that fails never fails the tool: its parcel
carries `CarrierTracking(error=<code>)` beside the shop's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from django.utils.timezone import now

from copilot.crypto import SecretUnreadable
from copilot.tools import Tool, ToolContext, ToolError, ToolOutput, has_customer_context
from orders.carriers import LABELS, carrier_for
from orders.carriers.lookup import Parcel, failed_report, normalize_tracking_number, track_parcels
from orders.conf import conf
from orders.connectors import connector_for
from orders.connectors.base import ConnectorError, ConnectorNotConfigured, OrderConnector
from orders.models import CarrierSource, OrderSource
from orders.quality import CheckContext, with_findings
from orders.schema import CarrierTracking, Order, normalize_order_number
from orders.selectors import carrier_source_for, order_source_for

logger = logging.getLogger(__name__)

MAX_ORDERS = 3
_MEMO_SOURCE = "orders.source"
_MEMO_CONNECTOR = "orders.connector"
_MEMO_READS = "orders.reads"
_MEMO_CARRIER_SOURCE = "orders.carrier_source"
_MEMO_CARRIER_REPORTS = "orders.carrier_reports"
ORDER_NUMBER_PATTERN = re.compile(r"^#?[A-Za-z0-9][A-Za-z0-9\-]{2,39}$")
TRACKING_NUMBER_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9\-]{2,59}$")  # once normalized

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_number": {
            "type": "string",
            "description": (
                "The order number the customer mentions, e.g. 'DEMO-1042'. Leave it out "
                "to get the customer's most recent orders."
            ),
        },
        "tracking_number": {
            "type": "string",
            "description": (
                "A tracking number of one of the customer's own parcels, to get only that "
                "parcel's order with what its carrier reports. Any other number is refused."
            ),
        },
    },
    "additionalProperties": False,
}

DESCRIPTION = (
    "Look up the current status, shipments and tracking of the customer's orders in the "
    "brand's order system, with what each parcel's carrier itself reports. Only this "
    "ticket's customer's orders can be returned."
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


def _carrier_source(ctx: ToolContext, order_kind: str) -> CarrierSource:
    """The brand's carrier source for lookups, read once per run (in the tool's thread: the
    pool that asks the carriers never reads the database). Raises SecretUnreadable."""
    if _MEMO_CARRIER_SOURCE not in ctx.memo:
        ctx.memo[_MEMO_CARRIER_SOURCE] = carrier_source_for(ctx.brand, order_kind=order_kind)
    return ctx.memo[_MEMO_CARRIER_SOURCE]


def _parcels(orders: list[Order], tracking: str) -> list[Parcel]:
    """The parcels on these orders (only the one numbered `tracking`, if given), once each."""
    found: dict[tuple[str, str], Parcel] = {}
    for order in orders:
        for shipment in order.shipments:
            parcel = Parcel(tracking_number=shipment.tracking_number, carrier=shipment.carrier)
            if not parcel.key[0] or (tracking and parcel.key[0] != tracking):
                continue
            found.setdefault(parcel.key, parcel)
    return list(found.values())


def _ask_carriers(
    ctx: ToolContext, order_kind: str, parcels: list[Parcel]
) -> dict[tuple[str, str], CarrierTracking]:
    """The carrier's report for each of `parcels` (a failed one carries its error code);
    none at all when the brand has no carrier lookups."""
    try:
        carrier_source = _carrier_source(ctx, order_kind)
    except SecretUnreadable as error:
        logger.error("orders.fetch_orders.carrier_secret_unreadable", extra={"brand": ctx.brand.pk})
        return {parcel.key: failed_report("Carrier tracking", error.code) for parcel in parcels}
    if carrier_source.kind == CarrierSource.Kind.NONE:
        return {}
    try:
        connector = carrier_for(
            carrier_source, tracking_numbers=[parcel.tracking_number for parcel in parcels]
        )
    except ConnectorError as error:
        label = LABELS.get(carrier_source.kind, "Carrier tracking")
        return {parcel.key: failed_report(label, error.code) for parcel in parcels}
    reports = track_parcels(connector, parcels, deadline=ctx.deadline)
    return {parcel.key: report for parcel, report in reports.items()}


def _with_carrier_reports(
    ctx: ToolContext, order_kind: str, orders: list[Order], *, tracking: str
) -> list[Order]:
    """`orders` with each parcel's carrier report on its shipment (`Shipment.tracking`).

    Only parcels on these orders (the customer's own, read above) are asked about, each at
    most once per run; with `tracking`, only that one.
    """
    parcels = _parcels(orders, tracking)
    if not parcels:
        return orders
    reports: dict[tuple[str, str], CarrierTracking] = ctx.memo.setdefault(_MEMO_CARRIER_REPORTS, {})
    todo = [parcel for parcel in parcels if parcel.key not in reports]
    if todo:
        reports.update(_ask_carriers(ctx, order_kind, todo))
    wanted = {parcel.key for parcel in parcels}

    def merged(order: Order) -> Order:
        shipments = []
        for shipment in order.shipments:
            key = Parcel(shipment.tracking_number, shipment.carrier).key
            report = reports.get(key) if key in wanted else None
            shipments.append(replace(shipment, tracking=report) if report else shipment)
        return replace(order, shipments=tuple(shipments))

    return [merged(order) for order in orders]


def fetch_orders(ctx: ToolContext, arguments: dict[str, Any]) -> ToolOutput:
    """Read this ticket's customer's orders; raise ToolError with a stable code on failure.

    Each lookup is made at most once per run; the result says which system answered and
    when it was read, and holds only the fields the brand allows. Each parcel on the orders
    carries what its carrier reports (or why that could not be read).
    """
    raw_number = arguments.get("order_number")
    if raw_number is not None and not isinstance(raw_number, str):
        raise ToolError("invalid_arguments", "order_number must be a string.")
    number = normalize_order_number(raw_number) if raw_number else ""
    if number and not ORDER_NUMBER_PATTERN.match(number):
        raise ToolError("invalid_arguments", "order_number is not a valid order number.")
    raw_tracking = arguments.get("tracking_number")
    if raw_tracking is not None and not isinstance(raw_tracking, str):
        raise ToolError("invalid_arguments", "tracking_number must be a string.")
    tracking = normalize_tracking_number(raw_tracking) if raw_tracking else ""
    if tracking and not TRACKING_NUMBER_PATTERN.match(tracking):
        raise ToolError("invalid_arguments", "tracking_number is not a valid tracking number.")

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

    found = read.orders
    if tracking:
        found = [
            order
            for order in found
            if any(
                normalize_tracking_number(s.tracking_number) == tracking for s in order.shipments
            )
        ]
        if not found:  # refused before any carrier is asked
            raise ToolError(
                "tracking_number_not_found",
                f"Tracking number {tracking} is not one of this customer's parcels; only "
                "tracking numbers on the customer's own orders can be looked up.",
            )

    # The merged orders: the shop's data with each parcel's carrier report.
    orders = _with_carrier_reports(ctx, source.kind, found, tracking=tracking)
    # Each merged order checked for data a reassuring reply must not paper over.
    quality = CheckContext(
        now=now(),
        shop=connector.label,
        allowed=frozenset(source.allowed_fields),
        no_movement_days=source.no_movement_days,
        read_at=read.read_at,
        max_age_seconds=conf.ORDERS_MAX_DATA_AGE_SECONDS,
    )
    orders = [with_findings(order, quality) for order in orders]

    data: dict[str, Any] = {
        "source": connector.label,
        "read_at": read.read_at.isoformat(timespec="seconds"),
        "orders": [order.to_dict(source.allowed_fields) for order in orders],
    }
    if not orders:
        data["message"] = (
            f"No order {number} was found for this customer."
            if number
            else "This customer has no orders."
        )
    reports = [s.tracking for order in orders for s in order.shipments if s.tracking]
    return ToolOutput(
        data=data,
        attributes={
            "source": connector.label,
            "read_at": data["read_at"],
            "found": len(orders),
            "cached": cached,
            "carrier_reports": len(reports),
            "carrier_errors": sorted({r.error for r in reports if r.error}),
            "findings": sorted({f.code for order in orders for f in order.findings}),
        },
    )


FETCH_ORDERS = Tool(
    name="fetch_orders",
    description=DESCRIPTION,
    parameters=PARAMETERS,
    handler=fetch_orders,
    needs_customer_context=True,
)
