"""The built-in demo store: orders kept in the database, read like any order system."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from copilot.models import Brand
from orders.models import DemoOrder, DemoShipment
from orders.quality import INCOMPLETE
from orders.schema import LineItem, Order, OrderStatus, Shipment, TrackingEvent


class DemoConnector:
    label = "Demo store"

    def __init__(self, brand: Brand) -> None:
        self.brand = brand

    def _orders(self) -> QuerySet[DemoOrder]:
        return (
            DemoOrder.objects.filter(brand=self.brand)
            .select_related("customer")
            .prefetch_related(
                Prefetch("shipments", queryset=DemoShipment.objects.prefetch_related("events"))
            )
        )

    def orders_for_customer(self, *, email: str, limit: int, timeout: float) -> list[Order]:
        rows = self._orders().filter(customer__email__iexact=email)[:limit]
        return [_normalize(row) for row in rows]

    def order_by_number(self, *, number: str, timeout: float) -> Order | None:
        row = self._orders().filter(number__iexact=number).first()
        return _normalize(row) if row else None

    def check(self, *, timeout: float) -> None:
        """The demo store is the database: it always answers."""


def _normalize(row: DemoOrder) -> Order:
    # A line without a title is a product the store no longer knows: that part of the
    # order cannot be read (a `partial_response` finding), like a vendor's field error.
    items = [item for item in row.items if str(item.get("title") or "").strip()]
    return Order(
        number=row.number,
        created_at=row.created_at,
        status=OrderStatus(row.status),
        financial_status=row.financial_status,
        items=tuple(
            LineItem(title=str(item["title"]), quantity=int(item.get("quantity", 1)))
            for item in items
        ),
        shipments=tuple(
            Shipment(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                tracking_url=shipment.tracking_url,
                status=OrderStatus(shipment.status),
                events=tuple(
                    TrackingEvent(time=e.time, description=e.description, location=e.location)
                    for e in shipment.events.all()
                ),
            )
            for shipment in row.shipments.all()
        ),
        estimated_delivery=row.estimated_delivery,
        total=row.total,
        currency=row.currency,
        customer_email=row.customer.email,
        shipping_address=row.shipping_address,
        phone=row.phone,
        extra={INCOMPLETE: ("items",)} if len(items) < len(row.items) else {},
    )
