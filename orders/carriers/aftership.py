"""AfterShip Tracking API (version 2025-01): what the carrier reports for one parcel.

Read-only. A parcel is looked up with `GET /tracking/2025-01/trackings?tracking_numbers=<n>`
(plus `slug=<courier>` when the shop's carrier name maps to a known AfterShip courier
code), authenticated by the `as-api-key` header; the answer is the usual envelope
`{"meta": {"code": 200}, "data": {"pagination": ..., "trackings": [...]}}`. From 2025-01 on,
a tracking is no longer addressed by slug and number in the path, so the list endpoint with
its `tracking_numbers` filter is the lookup. AfterShip only knows parcels that were created
in it (the shop's AfterShip app or integration does that); one it does not know answers an
empty list, which is `carrier_tracking_not_found` here: this client never creates one.

Errors come as `{"meta": {"code": <n>, "message": ..., "type": ...}, "data": {}}` with an HTTP
status that matches the meta code's family (401 key invalid, 403 not allowed, 404, 429 rate
limit, 4xxx codes with a 400, 5xx internal error), so the shared HTTP helper's status table
types them; 429 answers carry `Retry-After` (honoured when it fits the deadline) beside the
`X-RateLimit-*` headers.

The tag (AfterShip's normalized status) is mapped to `OrderStatus` by `TAG_STATUS`; a parcel
without a carrier scan yet (`Pending`, `InfoReceived`) has no status, only its detail.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from typing import Any

from django.utils.timezone import now

from orders.carriers.base import (
    CARRIER_SYSTEM,
    CarrierBadResponse,
    CarrierNotConfigured,
    TrackingNotFound,
)
from orders.connectors.http import HttpClient
from orders.schema import CarrierTracking, OrderStatus, TrackingEvent, normalize_order_number

logger = logging.getLogger(__name__)

API_VERSION = "2025-01"
DEFAULT_API_URL = "https://api.aftership.com"
LABEL = "AfterShip"
MAX_EVENTS = 10  # the newest checkpoints kept: enough to see the latest movement

# AfterShip's `tag` as an order status. None: the carrier has not scanned the parcel yet.
TAG_STATUS: dict[str, OrderStatus | None] = {
    "Pending": None,
    "InfoReceived": None,
    "InTransit": OrderStatus.IN_TRANSIT,
    "OutForDelivery": OrderStatus.OUT_FOR_DELIVERY,
    "AvailableForPickup": OrderStatus.OUT_FOR_DELIVERY,
    "AttemptFail": OrderStatus.DELIVERY_EXCEPTION,
    "Delivered": OrderStatus.DELIVERED,
    "Exception": OrderStatus.DELIVERY_EXCEPTION,
    "Expired": OrderStatus.DELIVERY_EXCEPTION,
}
# What a tag without a status means, in plain words (the model reads this detail).
_NO_SCAN_DETAIL = {
    "Pending": "Pending (no information from the carrier yet)",
    "InfoReceived": "InfoReceived (label created, no carrier scan yet)",
}
# The subtag of an `Exception` whose parcel is back with the sender ("Exception_010" is
# still on its way back: a delivery exception until it arrives).
RETURNED_SUBTAG = "Exception_011"

# The shop's carrier name (lower case) as an AfterShip courier code. A name not listed is
# looked up by its number alone, which AfterShip answers as well.
COURIER_SLUGS = {
    "dhl": "dhl",
    "dhl express": "dhl",
    "ups": "ups",
    "fedex": "fedex",
    "usps": "usps",
    "dpd": "dpd",
    "gls": "gls",
    "tnt": "tnt",
    "royal mail": "royal-mail",
    "colissimo": "colissimo",
    "la poste": "la-poste-colissimo",
    "colis privé": "colis-prive",
    "colis prive": "colis-prive",
    "chronopost": "chronopost-france",
}
# What a tracking number may hold: `tracking_numbers` is a comma-separated list, so anything
# else could widen the query to other parcels.
TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,59}$")


class AfterShipConnector:
    label = LABEL

    def __init__(
        self,
        *,
        api_key: str,
        call_timeout: float,
        source_key: str,
        api_url: str = "",
        breaker: bool = True,
    ) -> None:
        if not api_key:
            raise CarrierNotConfigured("The AfterShip API key is missing.")
        self.http = HttpClient(
            vendor="aftership",
            source_key=source_key,
            base_url=f"{(api_url or DEFAULT_API_URL).rstrip('/')}/tracking/{API_VERSION}",
            call_timeout=call_timeout,
            headers={"as-api-key": api_key},
            breaker=breaker,
            errors=CARRIER_SYSTEM,
        )

    def track(self, *, tracking_number: str, carrier: str, timeout: float) -> CarrierTracking:
        number = tracking_number.strip()
        if not TRACKING_NUMBER.match(number):
            raise TrackingNotFound("This is not a tracking number AfterShip can look up.")
        params = {"tracking_numbers": number}
        slug = COURIER_SLUGS.get(carrier.strip().lower())
        if slug:
            params["slug"] = slug
        payload = self.http.request_json(
            "GET", "/trackings", params=params, deadline=time.monotonic() + timeout
        )
        trackings = _data(payload).get("trackings")
        if not isinstance(trackings, list):
            raise CarrierBadResponse("AfterShip answered without trackings.")
        wanted = normalize_order_number(number)
        for tracking in trackings:
            if (
                isinstance(tracking, dict)
                and normalize_order_number(str(tracking.get("tracking_number") or "")) == wanted
                and (not slug or tracking.get("slug") == slug)
            ):
                return normalize_tracking(tracking)
        raise TrackingNotFound("AfterShip does not track this parcel.")

    def check(self, *, timeout: float) -> None:
        """The account's couriers: a cheap call that needs a valid API key."""
        _data(self.http.request_json("GET", "/couriers", deadline=time.monotonic() + timeout))


def _data(payload: Any) -> dict[str, Any]:
    """The `data` of a success envelope; raises CarrierBadResponse for anything else."""
    if not isinstance(payload, dict):
        raise CarrierBadResponse("AfterShip answered with something that is not an object.")
    meta = payload.get("meta")
    if isinstance(meta, dict) and meta.get("code") not in (200, 201):
        raise CarrierBadResponse("AfterShip answered with an error inside a success.")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise CarrierBadResponse("AfterShip answered without data.")
    return data


def normalize_tracking(tracking: dict[str, Any]) -> CarrierTracking:
    """An AfterShip tracking object as a `CarrierTracking`; raises CarrierBadResponse."""
    try:
        tag = str(tracking.get("tag") or "")
        subtag = str(tracking.get("subtag") or "")
        status = TAG_STATUS.get(tag)
        if tag == "Exception" and subtag == RETURNED_SUBTAG:
            status = OrderStatus.RETURNED
        checkpoints = [c for c in tracking.get("checkpoints") or [] if isinstance(c, dict)]
        events = sorted(
            (_event(checkpoint) for checkpoint in checkpoints),
            key=lambda event: event.time,
            reverse=True,
        )
        return CarrierTracking(
            source=LABEL,
            checked_at=now(),
            status=status,
            status_detail=_detail(tag, str(tracking.get("subtag_message") or "")),
            events=tuple(events[:MAX_EVENTS]),
            expected_delivery=_expected_delivery(tracking),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CarrierBadResponse(
            "AfterShip answered with a tracking in an unexpected shape."
        ) from error


def _detail(tag: str, subtag_message: str) -> str:
    if tag in _NO_SCAN_DETAIL:
        return _NO_SCAN_DETAIL[tag]
    words = re.sub(r"[^a-z]", "", subtag_message.lower())
    if not subtag_message or words == tag.lower():
        return tag
    return f"{tag}: {subtag_message}"


def _event(checkpoint: dict[str, Any]) -> TrackingEvent:
    location = str(checkpoint.get("location") or "") or ", ".join(
        str(checkpoint[key])
        for key in ("city", "state", "country_region_name")
        if checkpoint.get(key)
    )
    return TrackingEvent(
        time=_datetime(str(checkpoint["checkpoint_time"])),
        description=str(
            checkpoint.get("message") or checkpoint.get("subtag_message") or checkpoint.get("tag")
        ),
        location=location,
    )


def _datetime(value: str) -> dt.datetime:
    """A checkpoint time. The carrier gives it in the checkpoint's own time zone, sometimes
    without an offset; such a time is read as UTC (hours off at most, for scans days apart)."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _expected_delivery(tracking: dict[str, Any]) -> dt.date | None:
    """The latest estimate AfterShip holds (carrier, AI or custom), else the carrier's own;
    for a range, its last day (the honest "by" date)."""
    latest = tracking.get("latest_estimated_delivery") or {}
    courier = tracking.get("courier_estimated_delivery_date") or {}
    for value in (
        latest.get("datetime"),
        latest.get("datetime_max"),
        courier.get("estimated_delivery_date"),
        courier.get("estimated_delivery_date_max"),
    ):
        if value:
            return dt.date.fromisoformat(str(value)[:10])
    return None
