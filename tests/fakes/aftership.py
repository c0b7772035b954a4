"""A local AfterShip Tracking API, version 2025-01: `GET /tracking/2025-01/trackings`.

Shaped after AfterShip's own reference (read, not copied):

- the official Node.js SDK, github.com/AfterShip/tracking-sdk-nodejs at its 2025-01 version:
  `src/api/Tracking.ts` (`GET /tracking/2025-01/trackings`, no slug/number path any more),
  `src/model/GetTrackingsQuery.ts` (`tracking_numbers`, comma-separated, and `slug`),
  `src/model/GetTrackingsResponse.ts` and `Pagination.ts` (`data.pagination`,
  `data.trackings`), `src/model/Tracking.ts` (`tag`, `subtag`, `subtag_message`,
  `checkpoints`, `courier_estimated_delivery_date`, `latest_estimated_delivery`,
  `return_to_sender` set by the subtags `Exception_010` / `Exception_011`),
  `src/model/Checkpoint.ts` (`checkpoint_time` with or without an offset, `message`,
  `location`, `city`, `state`, `country_region_name`, `tag`, `subtag`), `TagV1.ts` (the nine
  tags), `MetaV1.ts`, `src/lib/request.ts` (the `as-api-key` header, the `{meta, data}`
  envelope), `src/error/meta_code.ts` and the README's error list (meta codes 4001-4017 with
  HTTP 400, 401, 403, 404, 429, 500-504);
- the official Python SDK, github.com/AfterShip/tracking-sdk-python (2024-04):
  `tracking/response.py` (`meta.type`: BadRequest, Unauthorized, Forbidden, NotFound,
  TooManyRequests, InternalError), `tracking/models/tag_v1.py`;
- https://www.aftership.com/docs/tracking/2025-01/quickstart/rate-limit (`X-RateLimit-Reset`
  as a Unix time, `X-RateLimit-Limit`, `X-RateLimit-Remaining`; 6 requests/s for
  `GET /trackings`) and https://www.aftership.com/docs/commerce/2026-01/quickstart/rate-limit
  (`retry-after` in seconds on a 429).

A number AfterShip does not track answers an empty `trackings` list, as the list endpoint
does. Error messages are this fake's own words. `latency` delays every answer; the request
log is `requests` (see `tests.fakes.base`).
"""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.base import FakeServer, Recorded, Reply

API_KEY = "asat_fake_0123456789abcdef"
PREFIX = "/tracking/2025-01"
RATE_LIMIT = 6

_ERROR_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
}


def envelope_error(status: int, message: str, *, meta_code: int | None = None) -> dict[str, Any]:
    """AfterShip's error body: the meta code (the HTTP status, or a 4xxx code with a 400)."""
    return {
        "meta": {
            "code": meta_code or status,
            "message": message,
            "type": _ERROR_TYPES.get(status, "InternalError"),
        },
        "data": {},
    }


def checkpoint(
    when: str,
    message: str,
    *,
    tag: str = "InTransit",
    subtag: str = "InTransit_002",
    location: str | None = None,
    city: str | None = None,
    country: str | None = None,
) -> dict[str, Any]:
    return {
        "created_at": when if when.endswith("Z") else when + "Z",
        "slug": "dhl",
        "checkpoint_time": when,
        "location": location,
        "city": city,
        "state": None,
        "zip": None,
        "coordinate": None,
        "country_region": None,
        "country_region_name": country,
        "message": message,
        "tag": tag,
        "subtag": subtag,
        "subtag_message": message,
        "raw_tag": "RAW",
        "events": [],
        "source": "carrier",
    }


def tracking(
    number: str,
    tag: str,
    *,
    slug: str = "dhl",
    subtag: str | None = None,
    subtag_message: str = "",
    checkpoints: list[dict[str, Any]] | None = None,
    latest: dict[str, Any] | None = None,
    courier_edd: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A tracking object as `GET /trackings` lists it (the fields a client reads, and some)."""
    subtag = subtag or f"{tag}_001"
    return {
        "id": f"id{abs(hash((number, slug))) % 10**12:012d}",
        "legacy_id": None,
        "created_at": "2026-11-20T08:00:00Z",
        "updated_at": "2026-11-23T08:00:00Z",
        "tracking_number": number,
        "slug": slug,
        "active": tag not in ("Delivered", "Expired"),
        "custom_fields": {},
        "transit_time": 3,
        "origin_country_region": "DEU",
        "destination_country_region": "FRA",
        "courier_estimated_delivery_date": courier_edd,
        "latest_estimated_delivery": latest,
        "order_id": None,
        "shipment_type": "Parcel",
        "signed_by": "M. Martin" if tag == "Delivered" else None,
        "source": "api",
        "tag": tag,
        "subtag": subtag,
        "subtag_message": subtag_message,
        "title": number,
        "tracked_count": 4,
        "checkpoints": checkpoints or [],
        "return_to_sender": subtag in ("Exception_010", "Exception_011"),
        "courier_tracking_link": f"https://carrier.example/track/{number}",
        "failed_delivery_attempts": 1 if tag == "AttemptFail" else 0,
    }


def default_trackings() -> list[dict[str, Any]]:
    """One parcel per tag (checkpoints oldest first, as AfterShip lists them)."""
    moving = [
        checkpoint("2026-11-20T09:00:00", "Shipment information received", tag="InfoReceived"),
        checkpoint("2026-11-21T06:10:00+01:00", "Departed facility", city="Köln", country="DE"),
        checkpoint("2026-11-22T04:00:00Z", "Arrived at hub", location="Paris-Nord, FR"),
    ]
    return [
        tracking("PEND0001", "Pending", subtag_message="Pending"),
        tracking(
            "INFO0001",
            "InfoReceived",
            subtag_message="Info Received",
            checkpoints=moving[:1],
        ),
        tracking(
            "JD014600006281230701",
            "InTransit",
            subtag_message="In Transit",
            checkpoints=moving,
            latest={
                "type": "specific",
                "source": "Carrier EDD",
                "datetime": "2026-11-28",
                "datetime_min": None,
                "datetime_max": None,
            },
        ),
        tracking(
            "OFD0001",
            "OutForDelivery",
            subtag_message="Out for Delivery",
            checkpoints=[*moving, checkpoint("2026-11-23T07:45:00Z", "Out for delivery")],
            courier_edd={
                "estimated_delivery_date": "2026-11-23T18:00:00",
                "estimated_delivery_date_min": None,
                "estimated_delivery_date_max": None,
            },
        ),
        tracking(
            "FAIL0001",
            "AttemptFail",
            subtag="AttemptFail_001",
            subtag_message="Failed Attempt",
            checkpoints=[*moving, checkpoint("2026-11-23T11:00:00Z", "Recipient not at home")],
        ),
        tracking(
            "DLV0001",
            "Delivered",
            subtag_message="Delivered",
            checkpoints=[*moving, checkpoint("2026-11-23T12:30:00Z", "Delivered, signed")],
        ),
        tracking(
            "PICK0001",
            "AvailableForPickup",
            subtag_message="Available for Pickup",
            checkpoints=[*moving, checkpoint("2026-11-23T10:00:00Z", "At the pickup point")],
            latest={
                "type": "range",
                "source": "AfterShip AI",
                "datetime": None,
                "datetime_min": "2026-11-24",
                "datetime_max": "2026-11-26",
            },
        ),
        tracking(
            "EXC0001",
            "Exception",
            subtag="Exception_004",
            subtag_message="Address issue",
            checkpoints=[*moving, checkpoint("2026-11-23T09:00:00Z", "Incorrect address")],
        ),
        tracking(
            "RTS0001",
            "Exception",
            subtag="Exception_011",
            subtag_message="Returned to sender",
            checkpoints=[*moving, checkpoint("2026-11-25T09:00:00Z", "Returned to shipper")],
        ),
        tracking(
            "RTS0002",
            "Exception",
            subtag="Exception_010",
            subtag_message="Returning to sender",
            checkpoints=[*moving, checkpoint("2026-11-24T09:00:00Z", "Return to sender")],
        ),
        tracking("EXP0001", "Expired", subtag_message="Expired", checkpoints=moving[:2]),
        tracking("1Z999AA10123456784", "InTransit", slug="ups", checkpoints=moving),
    ]


class FakeAfterShip(FakeServer):
    """The fake account. `trackings` may be replaced or extended by a test; `latency` (s)
    delays every answer, as a slow service would."""

    def __init__(self, *, api_key: str = API_KEY, latency: float = 0.0) -> None:
        super().__init__()
        self.api_key = api_key
        self.latency = latency
        self.trackings = default_trackings()

    def tracking_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"{PREFIX}/trackings"]

    def _rate_headers(self, remaining: int = RATE_LIMIT - 1) -> dict[str, str]:
        return {
            "X-RateLimit-Reset": str(int(time.time()) + 1),
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
        }

    # --- faults, as AfterShip answers them ---------------------------------------------------
    def unauthorized(self) -> Reply:
        return Reply(401, envelope_error(401, "The API key is not valid."), self._rate_headers())

    def server_error(self) -> Reply:
        return Reply(500, envelope_error(500, "AfterShip failed."), self._rate_headers())

    def rate_limited(self) -> Reply:
        headers = self._rate_headers(remaining=0)
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        return Reply(429, envelope_error(429, "Too many requests in this second."), headers)

    throttled = rate_limited

    def status_reply(self, status: int) -> Reply:
        meta_code = 4005 if status == 400 else None  # tracking_number invalid
        return Reply(
            status,
            envelope_error(status, f"Error {status}.", meta_code=meta_code),
            self._rate_headers(),
        )

    # --- the API ----------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        if request.headers.get("as-api-key") != self.api_key:
            return self.unauthorized()
        if request.method == "GET" and request.path == f"{PREFIX}/couriers":
            couriers = [{"slug": "dhl", "name": "DHL Express"}, {"slug": "ups", "name": "UPS"}]
            return Reply(
                200,
                {"meta": {"code": 200}, "data": {"total": len(couriers), "couriers": couriers}},
                self._rate_headers(),
            )
        if request.method != "GET" or request.path != f"{PREFIX}/trackings":
            return Reply(404, envelope_error(404, "No such resource."), self._rate_headers())
        numbers = {n for n in request.query.get("tracking_numbers", "").split(",") if n}
        slugs = {s for s in request.query.get("slug", "").split(",") if s}
        found = [
            t
            for t in self.trackings
            if (not numbers or t["tracking_number"] in numbers)
            and (not slugs or t["slug"] in slugs)
        ]
        return Reply(
            200,
            {
                "meta": {"code": 200},
                "data": {
                    "pagination": {
                        "total": len(found),
                        "next_cursor": "",
                        "has_next_page": False,
                    },
                    "trackings": found,
                },
            },
            self._rate_headers(),
        )
