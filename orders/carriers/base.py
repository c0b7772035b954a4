"""The carrier-tracking boundary: one protocol, and the typed errors of a carrier lookup.

A carrier connector answers "what does the carrier itself say about this parcel?" with a
`CarrierTracking` (`orders.schema`), whatever service it asks. Its errors derive from the
order-source errors (so the shared HTTP helper retries and breaks circuits the same way)
and carry codes of their own: the code is what a shipment shows when its lookup failed.
"""

from __future__ import annotations

from typing import Protocol

from copilot.outbound import ErrorFamily, Failure
from orders.connectors.base import (
    ConnectorAuthError,
    ConnectorBadResponse,
    ConnectorCircuitOpen,
    ConnectorError,
    ConnectorNotConfigured,
    ConnectorNotFound,
    ConnectorRateLimited,
    ConnectorTimeout,
    ConnectorUnavailable,
)
from orders.connectors.http import ConnectorErrors
from orders.schema import CarrierTracking


class CarrierError(ConnectorError):
    """A carrier lookup failed; the shipment keeps the shop's data and shows this `code`."""

    code = "carrier_error"


class CarrierNotConfigured(CarrierError, ConnectorNotConfigured):
    code = "carrier_not_configured"


class CarrierAuthError(CarrierError, ConnectorAuthError):
    code = "carrier_auth_failed"


class CarrierRateLimited(CarrierError, ConnectorRateLimited):
    code = "carrier_throttled"


class CarrierUnavailable(CarrierError, ConnectorUnavailable):
    code = "carrier_unavailable"


class CarrierTimeout(CarrierUnavailable, ConnectorTimeout):
    code = "carrier_timeout"


class CarrierBadResponse(CarrierError, ConnectorBadResponse):
    code = "carrier_bad_response"


class CarrierApiNotFound(CarrierError, ConnectorNotFound):
    """The tracking service answered 404 for its own API: usually a wrong API address."""

    code = "carrier_api_not_found"


class CarrierCircuitOpen(CarrierUnavailable, ConnectorCircuitOpen):
    code = "carrier_circuit_open"


class TrackingNotFound(CarrierError):
    """The service answered, but knows no parcel with this tracking number."""

    code = "carrier_tracking_not_found"


# What each failure of a call to a carrier-tracking service raises, and what people are told.
CARRIER_ERRORS = ErrorFamily(
    events="orders.carriers.http",
    errors={
        Failure.AUTH: (CarrierAuthError, "The carrier tracking service refused the API key."),
        Failure.NOT_FOUND: (
            CarrierApiNotFound,
            "The carrier tracking service's API was not found at this address.",
        ),
        Failure.RATE_LIMITED: (
            CarrierRateLimited,
            "The carrier tracking service is throttling requests.",
        ),
        Failure.SERVER_ERROR: (
            CarrierUnavailable,
            "The carrier tracking service failed ({status}).",
        ),
        Failure.REJECTED: (CarrierBadResponse, "The carrier tracking service answered {status}."),
        Failure.TIMEOUT: (
            CarrierTimeout,
            "The carrier tracking service did not answer within {timeout:.1f} s.",
        ),
        Failure.UNREACHABLE: (
            CarrierUnavailable,
            "The carrier tracking service could not be reached.",
        ),
        Failure.MALFORMED: (
            CarrierBadResponse,
            "The carrier tracking service answered with malformed JSON.",
        ),
    },
)

CARRIER_SYSTEM = ConnectorErrors(
    family=CARRIER_ERRORS,
    timeout=CarrierTimeout,
    circuit_open=CarrierCircuitOpen,
    system="carrier tracking service",
)


class CarrierConnector(Protocol):
    """Reads what a carrier reports for one parcel, as a `CarrierTracking`.

    `track` may run in a worker thread of `orders.carriers.lookup`: it must not touch the
    database (a connector that needs rows reads them when it is built, in the caller's
    thread). It raises a `ConnectorError` (a `CarrierError` subclass) on failure; the caller
    turns that into `CarrierTracking(error=code)`.
    """

    label: str  # shown to agents as the report's origin, e.g. "AfterShip"

    def track(self, *, tracking_number: str, carrier: str, timeout: float) -> CarrierTracking:
        """The carrier's report for this parcel; `carrier` is the shop's carrier name (a
        hint for the service). `timeout` is the whole lookup's budget in seconds."""
        ...

    def check(self, *, timeout: float) -> None:
        """Return if the service answers with these credentials; raise ConnectorError if not."""
        ...
