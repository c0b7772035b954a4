"""Reads of the orders app."""

from __future__ import annotations

from copilot.models import Brand
from orders.models import OrderSource


def order_source_for(brand: Brand) -> OrderSource:
    """The brand's order source; an unsaved demo-store source when it has none yet."""
    return OrderSource.objects.filter(brand=brand).first() or OrderSource(
        brand=brand, kind=OrderSource.Kind.DEMO
    )
