"""The connector boundary: one protocol, one error hierarchy with stable codes."""

from __future__ import annotations

from typing import Protocol

from copilot.errors import OutboundError
from orders.schema import Order


class ConnectorError(OutboundError):
    """An order system could not answer. `code` is stable across trace, UI and logs;
    `retry_after` is the wait the order system asked for, if it did."""

    code = "connector_error"


class ConnectorNotConfigured(ConnectorError):
    code = "order_source_not_configured"


class ConnectorAuthError(ConnectorError):
    code = "order_source_auth_failed"


class ConnectorRateLimited(ConnectorError):
    code = "order_source_throttled"
    retryable = True


class ConnectorUnavailable(ConnectorError):
    code = "order_source_unavailable"
    retryable = True


class ConnectorTimeout(ConnectorUnavailable):
    code = "order_source_timeout"


class ConnectorBadResponse(ConnectorError):
    code = "order_source_bad_response"


class ConnectorNotFound(ConnectorError):
    """The order system answered 404 for its own API: usually a wrong shop URL."""

    code = "order_source_not_found"


class ConnectorCircuitOpen(ConnectorUnavailable):
    """The source failed repeatedly; calls are skipped until a probe succeeds."""

    code = "order_source_circuit_open"


class OrderConnector(Protocol):
    """Reads orders from one brand's order system and returns normalized `Order`s."""

    label: str  # shown to agents as the data's origin, e.g. "Shopify"

    # `timeout` is the whole lookup's budget in seconds; every HTTP call inside it also
    # stops at the source's own per-call timeout.

    def orders_for_customer(self, *, email: str, limit: int, timeout: float) -> list[Order]:
        """The customer's most recent orders, newest first."""
        ...

    def order_by_number(self, *, number: str, timeout: float) -> Order | None:
        """The order with this number, or None. Ownership is checked by the caller."""
        ...

    def check(self, *, timeout: float) -> None:
        """Return if the source answers with these credentials; raise ConnectorError if not."""
        ...
