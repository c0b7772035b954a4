"""Connectors to order systems, chosen per brand by its `OrderSource`."""

from __future__ import annotations

from orders.connectors.base import ConnectorNotConfigured, OrderConnector
from orders.connectors.demo import DemoConnector
from orders.models import OrderSource


def connector_for(source: OrderSource) -> OrderConnector:
    """The connector that reads `source`; raises ConnectorNotConfigured for unknown kinds."""
    if source.kind == OrderSource.Kind.DEMO:
        return DemoConnector(source.brand)
    raise ConnectorNotConfigured(f"No connector for order source kind {source.kind!r}.")
