"""Connectors to order systems, chosen per brand by its `OrderSource`."""

from __future__ import annotations

from orders.connectors.base import ConnectorNotConfigured, OrderConnector
from orders.connectors.demo import DemoConnector
from orders.connectors.prestashop import PrestaShopConnector
from orders.connectors.shopify import ShopifyConnector
from orders.models import OrderSource


def connector_for(source: OrderSource, *, breaker: bool = True) -> OrderConnector:
    """The connector that reads `source`; raises ConnectorNotConfigured when it cannot.

    `breaker=False` bypasses the source's circuit breaker (the admin's "Test connection"
    must reach the real system, whatever recent lookups did).
    """
    key = f"source-{source.pk or 'unsaved'}"
    if source.kind == OrderSource.Kind.DEMO:
        return DemoConnector(source.brand)
    if source.kind == OrderSource.Kind.SHOPIFY:
        return ShopifyConnector(
            shop_url=source.shop_url,
            access_token=source.secret,
            call_timeout=source.timeout_seconds,
            source_key=key,
            allowed_fields=source.allowed_fields,
            breaker=breaker,
        )
    if source.kind == OrderSource.Kind.PRESTASHOP:
        return PrestaShopConnector(
            shop_url=source.shop_url,
            api_key=source.secret,
            call_timeout=source.timeout_seconds,
            source_key=key,
            breaker=breaker,
        )
    raise ConnectorNotConfigured(f"No connector for order source kind {source.kind!r}.")
