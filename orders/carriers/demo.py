"""The demo store's carrier feed: what "the carrier" says about the demo store's parcels.

Each `DemoShipment` carries its carrier's view: `carrier_status` (blank: the carrier agrees
with the shop), `carrier_expected_delivery`, when the feed last synced the parcel
(`carrier_synced_at`, blank: live; an aggregator's cached tracking can be hours old), and
its scans, the shipment's tracking events.
The rows are read when the feed is built, in the caller's thread, for the tracking numbers
it will be asked about; `track` only reads memory, so it may run in any thread.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch
from django.utils.timezone import now

from copilot.models import Brand
from orders.carriers.base import TrackingNotFound
from orders.models import DemoShipment, DemoTrackingEvent
from orders.schema import STATUS_LABELS, CarrierTracking, OrderStatus, TrackingEvent

LABEL = "Demo carrier feed"


def _key(tracking_number: str, carrier: str) -> tuple[str, str]:
    return tracking_number.strip().upper(), carrier.strip().lower()


class DemoCarrierFeed:
    label = LABEL

    def __init__(self, brand: Brand, *, tracking_numbers: Iterable[str] = ()) -> None:
        numbers = sorted({n.strip() for n in tracking_numbers if n.strip()})
        self._parcels: dict[tuple[str, str], DemoShipment] = {}
        if not numbers:
            return
        rows = (
            DemoShipment.objects.filter(order__brand=brand, tracking_number__in=numbers)
            .prefetch_related(
                Prefetch("events", queryset=DemoTrackingEvent.objects.order_by("-time", "-id"))
            )
            .order_by("id")
        )
        for row in rows:
            self._parcels.setdefault(_key(row.tracking_number, row.carrier), row)

    def track(self, *, tracking_number: str, carrier: str, timeout: float) -> CarrierTracking:
        row = self._parcels.get(_key(tracking_number, carrier))
        if row is None:
            raise TrackingNotFound("The demo carrier feed has no parcel with this number.")
        status = OrderStatus(row.carrier_status or row.status)
        return CarrierTracking(
            source=LABEL,
            checked_at=row.carrier_synced_at or now(),
            status=status,
            status_detail=STATUS_LABELS[status],
            events=tuple(
                TrackingEvent(time=e.time, description=e.description, location=e.location)
                for e in row.events.all()
            ),
            expected_delivery=row.carrier_expected_delivery,
        )

    def check(self, *, timeout: float) -> None:
        """The demo feed is the database: it always answers."""
