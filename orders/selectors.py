"""Reads of the orders app."""

from __future__ import annotations

from copilot.models import Brand
from orders.models import CarrierSource, OrderSource


def order_source_for(brand: Brand) -> OrderSource:
    """The brand's order source; an unsaved demo-store source when it has none yet.

    No query when `brand` was read with `select_related("order_source")`: a draft run reads
    it with its ticket, the credentials deferred until a connector needs them.
    """
    try:
        return brand.order_source
    except OrderSource.DoesNotExist:
        return OrderSource(brand=brand, kind=OrderSource.Kind.DEMO)


def carrier_source_of(brand: Brand, *, order_kind: str) -> CarrierSource:
    """The brand's carrier source as configured; when it has none, an unsaved one of the
    default kind for an order source of `order_kind`: the demo carrier feed with the demo
    store, no carrier lookups with any other order system.

    Reading a saved source decrypts its key: `copilot.crypto.SecretUnreadable` when no
    configured key opens it.
    """
    source = CarrierSource.objects.filter(brand=brand).first()
    if source is not None:
        return source
    demo_store = order_kind == OrderSource.Kind.DEMO
    kind = CarrierSource.Kind.DEMO if demo_store else CarrierSource.Kind.NONE
    return CarrierSource(brand=brand, kind=kind)


def carrier_source_for(brand: Brand, *, order_kind: str) -> CarrierSource:
    """The carrier source lookups use: `carrier_source_of`, except that the demo feed, which
    only knows the demo store's parcels, means no lookups with any other order system (a
    brand that moved to Shopify makes no lookups bound to fail)."""
    source = carrier_source_of(brand, order_kind=order_kind)
    if source.kind == CarrierSource.Kind.DEMO and order_kind != OrderSource.Kind.DEMO:
        return CarrierSource(pk=source.pk, brand=brand, kind=CarrierSource.Kind.NONE)
    return source
