"""Shopify: the Admin GraphQL API, read-only, at a pinned API version.

Orders are searched by the customer's email or by the order name, newest first; the search
is fuzzy, so results are kept only when the email or name matches exactly, reading at most
`ORDERS_SHOPIFY_MAX_PAGES` pages. Query cost is budgeted from `extensions.cost`: the last
throttle status is kept in the cache per shop, a query that would not fit waits for the
bucket to refill (within the deadline) and a THROTTLED answer is retried after the time the
bucket needs.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache

from orders.conf import conf
from orders.connectors.base import (
    ConnectorAuthError,
    ConnectorBadResponse,
    ConnectorNotConfigured,
    ConnectorRateLimited,
)
from orders.connectors.http import HttpClient
from orders.quality import INCOMPLETE
from orders.schema import (
    ALL_FIELDS,
    LineItem,
    Order,
    OrderStatus,
    Shipment,
    TrackingEvent,
    normalize_order_number,
)

logger = logging.getLogger(__name__)

API_VERSION = "2025-07"
PAGE_SIZE = 10
# What one orders page is expected to cost before Shopify says; replaced by the real
# requestedQueryCost once a query has run.
DEFAULT_QUERY_COST = 120.0

_ORDER_FIELDS = """
  name email createdAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet { shopMoney { amount currencyCode } }
  totalRefundedSet { shopMoney { amount currencyCode } }
  lineItems(first: 20) { nodes { title quantity } }
  fulfillments(first: 10) {
    status displayStatus estimatedDeliveryAt
    trackingInfo(first: 3) { company number url }
    events(first: 10, sortKey: HAPPENED_AT) { nodes { happenedAt status message city country } }
  }
"""
# Personal data is only asked for when the brand allows it, so it never leaves Shopify
# otherwise. (`email` is always read: it is how ownership is checked, never shown.)
_OPTIONAL_FIELDS = {
    "phone": "  phone\n",
    "shipping_address": "  shippingAddress { address1 address2 city zip countryCodeV2 }\n",
}


def orders_query(allowed_fields: Iterable[str]) -> str:
    """The orders search query, selecting personal fields only if they are allowed."""
    allowed = set(allowed_fields)
    extra = "".join(text for name, text in _OPTIONAL_FIELDS.items() if name in allowed)
    return (
        "query CopilotOrders($query: String!, $first: Int!, $after: String) {\n"
        "  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT, "
        "reverse: true) {\n"
        "    nodes {" + _ORDER_FIELDS + extra + "}\n"
        "    pageInfo { hasNextPage endCursor }\n"
        "  }\n"
        "}"
    )


SHOP_QUERY = "query CopilotCheck { shop { name } }"

_FULFILLMENT_STATUS: dict[str, OrderStatus] = {
    "DELIVERED": OrderStatus.DELIVERED,
    "PICKED_UP": OrderStatus.DELIVERED,
    "OUT_FOR_DELIVERY": OrderStatus.OUT_FOR_DELIVERY,
    "READY_FOR_PICKUP": OrderStatus.OUT_FOR_DELIVERY,
    "ATTEMPTED_DELIVERY": OrderStatus.DELIVERY_EXCEPTION,
    "FAILURE": OrderStatus.DELIVERY_EXCEPTION,
    "NOT_DELIVERED": OrderStatus.DELIVERY_EXCEPTION,
}
_CANCELLED_FULFILLMENT = {"CANCELED", "CANCELLED", "LABEL_VOIDED"}
# The order fields each field of an order node feeds: a GraphQL field error on one of them
# (the node still answered, that field null) leaves that part of the order unread.
_ORDER_FIELD_OF = {
    "cancelledAt": "cancelled_at",
    "displayFinancialStatus": "financial_status",
    "displayFulfillmentStatus": "status",
    "totalPriceSet": "total",
    "totalRefundedSet": "refunded_total",
    "lineItems": "items",
    "fulfillments": "shipments",
    "phone": "phone",
    "shippingAddress": "shipping_address",
}
_EVENT_TEXT = {
    "LABEL_PRINTED": "Label printed",
    "LABEL_PURCHASED": "Label purchased",
    "CONFIRMED": "Confirmed by the carrier",
    "READY_FOR_PICKUP": "Ready for pickup",
    "PICKED_UP": "Picked up",
    "IN_TRANSIT": "In transit",
    "OUT_FOR_DELIVERY": "Out for delivery",
    "ATTEMPTED_DELIVERY": "Delivery attempted",
    "DELAYED": "Delayed",
    "DELIVERED": "Delivered",
    "FAILURE": "Delivery failed",
    "CARRIER_PICKED_UP": "Picked up by the carrier",
}


class ShopifyConnector:
    label = "Shopify"

    def __init__(
        self,
        *,
        shop_url: str,
        access_token: str,
        call_timeout: float,
        source_key: str,
        allowed_fields: Iterable[str] = ALL_FIELDS,
        breaker: bool = True,
    ) -> None:
        if not shop_url or not access_token:
            raise ConnectorNotConfigured("The Shopify shop URL or access token is missing.")
        self.source_key = source_key
        self.query = orders_query(allowed_fields)
        self.http = HttpClient(
            vendor="shopify",
            source_key=source_key,
            base_url=f"{shop_url.rstrip('/')}/admin/api/{API_VERSION}",
            call_timeout=call_timeout,
            headers={"X-Shopify-Access-Token": access_token},
            breaker=breaker,
        )
        self._bucket_key = f"orders:shopify:bucket:{source_key}"

    # --- the protocol --------------------------------------------------------------------
    def orders_for_customer(self, *, email: str, limit: int, timeout: float) -> list[Order]:
        wanted = email.strip().lower()
        return self._search(
            f'email:"{_quote(wanted)}"',
            keep=lambda node: (node.get("email") or "").strip().lower() == wanted,
            limit=limit,
            deadline=time.monotonic() + timeout,
        )

    def order_by_number(self, *, number: str, timeout: float) -> Order | None:
        wanted = normalize_order_number(number)
        found = self._search(
            f"name:{_quote(wanted)}",
            keep=lambda node: normalize_order_number(node.get("name") or "") == wanted,
            limit=1,
            deadline=time.monotonic() + timeout,
        )
        return found[0] if found else None

    def check(self, *, timeout: float) -> None:
        self._graphql(SHOP_QUERY, {}, deadline=time.monotonic() + timeout)

    # --- GraphQL -------------------------------------------------------------------------
    def _search(self, query: str, *, keep: Any, limit: int, deadline: float) -> list[Order]:
        orders: list[Order] = []
        after: str | None = None
        for _page in range(conf.ORDERS_SHOPIFY_MAX_PAGES):
            payload = self._query(
                self.query,
                {"query": query, "first": PAGE_SIZE, "after": after},
                deadline=deadline,
            )
            connection = _get(payload["data"], "orders", kind=dict)
            unread = _unread_fields(payload.get("errors"))
            for index, node in enumerate(_get(connection, "nodes", kind=list)):
                if isinstance(node, dict) and keep(node):
                    orders.append(normalize_order(node, unread=unread.get(index, ())))
                    if len(orders) >= limit:
                        return orders
            page_info = _get(connection, "pageInfo", kind=dict)
            if not page_info.get("hasNextPage"):
                return orders
            after = page_info.get("endCursor")
        logger.info(
            "orders.shopify.page_cap",
            extra={"source": self.source_key, "pages": conf.ORDERS_SHOPIFY_MAX_PAGES},
        )
        return orders

    def _graphql(self, query: str, variables: dict[str, Any], *, deadline: float) -> dict:
        return self._query(query, variables, deadline=deadline)["data"]

    def _query(self, query: str, variables: dict[str, Any], *, deadline: float) -> dict:
        """The whole answer (`data`, and `errors` when only some fields failed)."""
        self._wait_for_bucket(deadline)
        payload = self.http.request_json(
            "POST",
            "/graphql.json",
            json_body={"query": query, "variables": variables},
            deadline=deadline,
            inspect=self._inspect,
        )
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            raise ConnectorBadResponse("Shopify answered without data.")
        return payload

    def _inspect(self, payload: Any) -> None:
        """Record the cost bucket and turn GraphQL-level errors into typed errors."""
        if not isinstance(payload, dict):
            raise ConnectorBadResponse("Shopify answered with something that is not an object.")
        cost = (payload.get("extensions") or {}).get("cost") or {}
        throttle = cost.get("throttleStatus") or {}
        if throttle:
            cache.set(
                self._bucket_key,
                {
                    "available": float(throttle.get("currentlyAvailable", 0)),
                    "maximum": float(throttle.get("maximumAvailable", 0)),
                    "restore_rate": float(throttle.get("restoreRate", 0)) or 1.0,
                    "requested": float(cost.get("requestedQueryCost") or DEFAULT_QUERY_COST),
                    "at": time.time(),
                },
                timeout=600,
            )
        errors = payload.get("errors")
        if not errors:
            return
        if isinstance(errors, str):  # REST-style error body on an auth failure
            raise ConnectorAuthError("Shopify refused the access token.")
        codes = {
            str(((error or {}).get("extensions") or {}).get("code", ""))
            for error in errors
            if isinstance(error, dict)
        }
        messages = {str((error or {}).get("message", "")) for error in errors}
        if "THROTTLED" in codes or "Throttled" in messages:
            requested = float(cost.get("requestedQueryCost") or DEFAULT_QUERY_COST)
            available = float(throttle.get("currentlyAvailable", 0))
            rate = float(throttle.get("restoreRate", 0)) or 1.0
            logger.warning(
                "orders.shopify.throttled",
                extra={"source": self.source_key, "requested": requested, "available": available},
            )
            raise ConnectorRateLimited(
                "Shopify is throttling queries.",
                retry_after=max(0.0, (requested - available) / rate),
            )
        if "ACCESS_DENIED" in codes:
            raise ConnectorAuthError("The Shopify token may not read orders.")
        if isinstance(payload.get("data"), dict) and all(_field_error(e) for e in errors):
            # Partial data: the orders answered, some of their fields did not. The orders
            # are kept and say what could not be read (`_unread_fields`).
            logger.warning(
                "orders.shopify.partial", extra={"source": self.source_key, "errors": len(errors)}
            )
            return
        raise ConnectorBadResponse("Shopify rejected the query.")

    def _wait_for_bucket(self, deadline: float) -> None:
        """Wait until the cost bucket (as last reported, refilled since) holds a query."""
        bucket = cache.get(self._bucket_key)
        if not bucket:
            return
        elapsed = time.time() - bucket["at"]
        available = min(bucket["maximum"], bucket["available"] + elapsed * bucket["restore_rate"])
        missing = bucket["requested"] - available
        if missing <= 0:
            return
        wait = missing / bucket["restore_rate"]
        if time.monotonic() + wait >= deadline:
            raise ConnectorRateLimited("Shopify's query budget is spent; it refills too slowly.")
        logger.info(
            "orders.shopify.bucket_wait",
            extra={"source": self.source_key, "wait_ms": round(wait * 1000)},
        )
        time.sleep(wait)


# --- normalization -----------------------------------------------------------------------
def _field_error(error: Any) -> bool:
    """A GraphQL error on one field of one order node: path ["orders", "nodes", i, field]."""
    path = error.get("path") if isinstance(error, dict) else None
    return (
        isinstance(path, list)
        and len(path) >= 4
        and path[:2] == ["orders", "nodes"]
        and isinstance(path[2], int)
        and path[3] in _ORDER_FIELD_OF
    )


def _unread_fields(errors: Any) -> dict[int, tuple[str, ...]]:
    """The order fields each node (by index in the page) could not answer."""
    unread: dict[int, list[str]] = {}
    for error in errors if isinstance(errors, list) else ():
        if _field_error(error):
            index, name = error["path"][2], _ORDER_FIELD_OF[error["path"][3]]
            if name not in unread.setdefault(index, []):
                unread[index].append(name)
    return {index: tuple(names) for index, names in unread.items()}


def normalize_order(node: dict[str, Any], *, unread: tuple[str, ...] = ()) -> Order:
    """A Shopify `Order` node as the normalized `Order`; raises ConnectorBadResponse.

    `unread` names the order fields Shopify answered with a field error (kept in
    `Order.extra` for `orders.quality`)."""
    try:
        total = _money(node.get("totalPriceSet"))
        refunded = _money(node.get("totalRefundedSet"))
        fulfillments = [f for f in node.get("fulfillments") or [] if isinstance(f, dict)]
        shipments: list[Shipment] = []
        estimates: list[dt.date] = []
        for fulfillment in fulfillments:
            display = str(fulfillment.get("displayStatus") or "")
            if display in _CANCELLED_FULFILLMENT or fulfillment.get("status") == "CANCELLED":
                continue
            status = _FULFILLMENT_STATUS.get(display, OrderStatus.IN_TRANSIT)
            events = tuple(
                TrackingEvent(
                    time=_datetime(event["happenedAt"]),
                    description=str(event.get("message") or "")
                    or _EVENT_TEXT.get(str(event.get("status")), str(event.get("status") or "")),
                    location=", ".join(
                        str(part) for part in (event.get("city"), event.get("country")) if part
                    ),
                )
                for event in ((fulfillment.get("events") or {}).get("nodes") or [])
            )
            if fulfillment.get("estimatedDeliveryAt") and status != OrderStatus.DELIVERED:
                estimates.append(_datetime(fulfillment["estimatedDeliveryAt"]).date())
            tracking = [t for t in fulfillment.get("trackingInfo") or [] if isinstance(t, dict)]
            for info in tracking or [{}]:
                shipments.append(
                    Shipment(
                        carrier=str(info.get("company") or ""),
                        tracking_number=str(info.get("number") or ""),
                        tracking_url=str(info.get("url") or ""),
                        status=status,
                        events=events,
                    )
                )
        financial = str(node.get("displayFinancialStatus") or "")
        fulfillment_status = str(node.get("displayFulfillmentStatus") or "")
        address = node.get("shippingAddress") or {}
        return Order(
            number=str(node["name"]).lstrip("#"),
            created_at=_datetime(node["createdAt"]),
            status=_order_status(
                cancelled=bool(node.get("cancelledAt")),
                financial=financial,
                fulfillment=fulfillment_status,
                shipments=shipments,
            ),
            financial_status=financial.lower(),
            items=tuple(
                LineItem(
                    title=str(item.get("title") or ""), quantity=int(item.get("quantity") or 0)
                )
                for item in ((node.get("lineItems") or {}).get("nodes") or [])
            ),
            shipments=tuple(shipments),
            estimated_delivery=max(estimates) if estimates else None,
            total=total[0] if total else None,
            currency=total[1] if total else "",
            cancelled_at=_datetime(node["cancelledAt"]) if node.get("cancelledAt") else None,
            refunded_total=refunded[0] if refunded and refunded[0] > 0 else None,
            source_status=fulfillment_status,
            customer_email=str(node.get("email") or ""),
            shipping_address=", ".join(
                str(address[key])
                for key in ("address1", "address2", "zip", "city", "countryCodeV2")
                if address.get(key)
            ),
            phone=str(node.get("phone") or ""),
            extra={INCOMPLETE: unread} if unread else {},
        )
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as error:
        raise ConnectorBadResponse(
            "Shopify answered with an order in an unexpected shape."
        ) from error


def _order_status(
    *, cancelled: bool, financial: str, fulfillment: str, shipments: list[Shipment]
) -> OrderStatus:
    if cancelled:
        return OrderStatus.CANCELLED
    if financial == "REFUNDED":
        return OrderStatus.REFUNDED
    if fulfillment == "RESTOCKED":
        return OrderStatus.RETURNED
    statuses = {shipment.status for shipment in shipments}
    if OrderStatus.DELIVERY_EXCEPTION in statuses:
        return OrderStatus.DELIVERY_EXCEPTION
    if fulfillment == "PARTIALLY_FULFILLED":
        return OrderStatus.PARTIALLY_SHIPPED
    if shipments and fulfillment == "FULFILLED":
        if statuses == {OrderStatus.DELIVERED}:
            return OrderStatus.DELIVERED
        if OrderStatus.OUT_FOR_DELIVERY in statuses:
            return OrderStatus.OUT_FOR_DELIVERY
        return OrderStatus.IN_TRANSIT
    if financial == "PARTIALLY_REFUNDED":
        return OrderStatus.PARTIALLY_REFUNDED
    if financial in ("PAID", "PARTIALLY_PAID"):
        return OrderStatus.PAID
    if fulfillment in ("IN_PROGRESS", "PENDING_FULFILLMENT", "ON_HOLD", "SCHEDULED"):
        return OrderStatus.UNFULFILLED
    return OrderStatus.PLACED


def _money(value: Any) -> tuple[Decimal, str] | None:
    money = (value or {}).get("shopMoney") if isinstance(value, dict) else None
    if not money:
        return None
    return Decimal(str(money["amount"])), str(money.get("currencyCode") or "")


def _datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _get(container: Any, key: str, *, kind: type) -> Any:
    value = container.get(key) if isinstance(container, dict) else None
    if not isinstance(value, kind):
        raise ConnectorBadResponse(f"Shopify answered without {key}.")
    return value


def _quote(value: str) -> str:
    """A value safe inside a double-quoted Shopify search term."""
    return value.replace("\\", "").replace('"', "")
