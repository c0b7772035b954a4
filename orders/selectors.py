"""Reads of the orders app."""

from __future__ import annotations

from copilot.models import Brand
from orders.models import OrderSource


def order_source_for(brand: Brand) -> OrderSource:
    """The brand's order source; an unsaved demo-store source when it has none yet.

    No query when `brand` was read with `select_related("order_source")`: a draft run reads
    it with its ticket, the credentials deferred until a connector needs them.
    """
    try:
        return brand.order_source
    except OrderSource.DoesNotExist:
        return OrderSource(brand=brand, kind=OrderSource.Kind.DEMO)
