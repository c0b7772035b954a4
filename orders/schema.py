"""The normalized order: what every connector returns, whatever system it reads.

Nothing past a connector sees vendor JSON. `Order.to_dict(allowed)` is the one way an
order becomes data for the model, the trace and the agent, and it only emits the fields
the brand allows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


def normalize_order_number(value: str) -> str:
    """An order (or tracking) reference as compared: trimmed, no leading '#', upper case."""
    return value.strip().lstrip("#").upper()


# An order reference as customers write it, in English, French, German and Spanish.
ORDER_NUMBER = re.compile(
    r"""
    (?:
        \#\s?(?P<hash>[A-Z0-9][A-Z0-9-]{2,})                       # #1042, #DEMO-1042
      | \b(?:order|ord|commande|cmd|purchase|achat|bestellung|pedido|r[eé]f(?:[eé]rence)?
          |confirmation)
        \s*(?:number|no\.?|nr\.?|num(?:e|é)ro|n°|n[o°]\.?|id)?\s*[:#]?\s*
        (?P<word>[A-Z]{0,6}-?\d{3,}[A-Z0-9-]*)                     # order 1042, commande n° 1042
      | \b(?P<prefixed>[A-Z]{2,6}-\d{3,})\b                        # DEMO-1042
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


def order_numbers_in(text: str) -> tuple[str, ...]:
    """Order references in `text`, upper-cased, in order of appearance, without repeats."""
    found: list[str] = []
    for match in ORDER_NUMBER.finditer(text):
        value = (match.group("hash") or match.group("word") or match.group("prefixed")).upper()
        value = value.rstrip("-")
        if value not in found:
            found.append(value)
    return tuple(found)


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    UNFULFILLED = "unfulfilled"
    PARTIALLY_SHIPPED = "partially_shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_EXCEPTION = "delivery_exception"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    RETURNED = "returned"


STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.PLACED: "placed",
    OrderStatus.PAID: "paid, not yet shipped",
    OrderStatus.UNFULFILLED: "being prepared",
    OrderStatus.PARTIALLY_SHIPPED: "partially shipped",
    OrderStatus.IN_TRANSIT: "in transit",
    OrderStatus.OUT_FOR_DELIVERY: "out for delivery",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.DELIVERY_EXCEPTION: "held up by a delivery problem",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REFUNDED: "refunded",
    OrderStatus.PARTIALLY_REFUNDED: "partially refunded",
    OrderStatus.RETURNED: "returned",
}


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    time: dt.datetime
    description: str
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "description": self.description,
            "location": self.location,
        }


@dataclass(frozen=True, slots=True)
class CarrierTracking:
    """What the carrier itself reports for one tracking number: a second source beside the
    shop's record, looked up only for tracking numbers of the customer's own orders."""

    source: str  # who answered, for people: "AfterShip", "the demo store's carrier feed"
    checked_at: dt.datetime
    status: OrderStatus | None = None  # normalized; None when the carrier gave no usable one
    status_detail: str = ""  # the carrier's own words ("Exception", "InfoReceived")
    events: tuple[TrackingEvent, ...] = ()  # newest first
    expected_delivery: dt.date | None = None
    error: str = ""  # a ConnectorError code when the lookup failed; the shop's data stands

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "status": str(self.status) if self.status else None,
            "status_detail": self.status_detail,
            "events": [event.to_dict() for event in self.events],
            "expected_delivery": (
                self.expected_delivery.isoformat() if self.expected_delivery else None
            ),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class Shipment:
    carrier: str
    tracking_number: str
    status: OrderStatus
    tracking_url: str = ""
    events: tuple[TrackingEvent, ...] = ()
    tracking: CarrierTracking | None = None  # the carrier's own report, once looked up

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": self.tracking_url,
            "status": str(self.status),
            "events": [event.to_dict() for event in self.events],
        }
        if self.tracking is not None:
            data["carrier_tracking"] = self.tracking.to_dict()
        return data


@dataclass(frozen=True, slots=True)
class Finding:
    """Something about an order's data that makes a reassuring answer unsafe: a stable
    `code`, a `severity` ("warning" or "critical"), a plain sentence for the agent and the
    model, and the `evidence` (which field, from which source, says what)."""

    code: str
    severity: str
    message: str
    evidence: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "evidence": [dict(item) for item in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class LineItem:
    title: str
    quantity: int

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "quantity": self.quantity}


@dataclass(frozen=True, slots=True)
class Order:
    number: str
    created_at: dt.datetime
    status: OrderStatus
    financial_status: str = ""
    items: tuple[LineItem, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    estimated_delivery: dt.date | None = None
    total: Decimal | None = None
    currency: str = ""
    cancelled_at: dt.datetime | None = None
    refunded_total: Decimal | None = None
    # The order system's own words for the status ("Expédié", "PARTIALLY_FULFILLED").
    source_status: str = ""
    customer_email: str = ""
    shipping_address: str = ""
    phone: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()  # set by orders.quality once the sources are merged

    def to_dict(self, allowed: Iterable[str]) -> dict[str, Any]:
        """The order as plain data, restricted to the `allowed` top-level fields, with its
        `findings` whatever the allow-list (their evidence withholds hidden values)."""
        full: dict[str, Any] = {
            "number": self.number,
            "created_at": self.created_at.isoformat(),
            "status": str(self.status),
            "status_label": STATUS_LABELS[self.status],
            "financial_status": self.financial_status,
            "items": [item.to_dict() for item in self.items],
            "shipments": [shipment.to_dict() for shipment in self.shipments],
            "estimated_delivery": (
                self.estimated_delivery.isoformat() if self.estimated_delivery else None
            ),
            "total": str(self.total) if self.total is not None else None,
            "currency": self.currency,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
            "refunded_total": (
                str(self.refunded_total) if self.refunded_total is not None else None
            ),
            "source_status": self.source_status,
            "customer_email": self.customer_email,
            "shipping_address": self.shipping_address,
            "phone": self.phone,
        }
        allowed_set = set(allowed)
        data = {key: value for key, value in full.items() if key in allowed_set}
        data["findings"] = [finding.to_dict() for finding in self.findings]
        return data


# Fields a brand gets unless it chooses otherwise: enough to answer "where is my order?",
# nothing that identifies or locates a person or exposes payment details.
DEFAULT_ALLOWED_FIELDS: tuple[str, ...] = (
    "number",
    "created_at",
    "status",
    "status_label",
    "financial_status",
    "items",
    "shipments",
    "estimated_delivery",
    "total",
    "currency",
    "cancelled_at",
    "refunded_total",
    "source_status",
)
ALL_FIELDS: tuple[str, ...] = (
    *DEFAULT_ALLOWED_FIELDS,
    "customer_email",
    "shipping_address",
    "phone",
)
