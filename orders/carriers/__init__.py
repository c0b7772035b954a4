"""Carrier-tracking connectors (AfterShip, the demo store's feed), chosen per brand by its
`CarrierSource`; `orders.carriers.lookup` asks them about several parcels at once."""

from __future__ import annotations

from collections.abc import Iterable

from orders.carriers.aftership import AfterShipConnector
from orders.carriers.base import CarrierConnector, CarrierNotConfigured
from orders.carriers.demo import DemoCarrierFeed
from orders.models import CarrierSource

# Who answers, as shown beside a report (also for a lookup that failed before asking).
LABELS: dict[str, str] = {
    CarrierSource.Kind.DEMO: DemoCarrierFeed.label,
    CarrierSource.Kind.AFTERSHIP: AfterShipConnector.label,
}


def carrier_for(
    source: CarrierSource, *, tracking_numbers: Iterable[str] = (), breaker: bool = True
) -> CarrierConnector:
    """The connector that asks `source`'s service; raises CarrierNotConfigured when it
    cannot (no lookups configured, a missing key).

    Call it in a thread that may use the database: the demo feed reads its rows for
    `tracking_numbers` here, so that its `track` never does. `breaker=False` bypasses the
    service's circuit breaker (the admin's "Test connection").
    """
    if source.kind == CarrierSource.Kind.DEMO:
        return DemoCarrierFeed(source.brand, tracking_numbers=tracking_numbers)
    if source.kind == CarrierSource.Kind.AFTERSHIP:
        return AfterShipConnector(
            api_key=source.secret,
            api_url=source.api_url,
            call_timeout=source.timeout_seconds,
            source_key=f"carrier-{source.pk or 'unsaved'}",
            breaker=breaker,
        )
    raise CarrierNotConfigured("No carrier lookups are configured for this brand.")
