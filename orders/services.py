"""Writes of the orders app: a brand's order source and carrier source, and checking that
they answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orders.carriers import carrier_for
from orders.connectors import connector_for
from orders.connectors.base import (
    ConnectorAuthError,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorUnavailable,
)
from orders.models import CarrierSource, OrderSource

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 10.0


def order_source_apply(
    source: OrderSource,
    *,
    kind: str,
    shop_url: str,
    timeout_seconds: float,
    allowed_fields: list[str],
    no_movement_days: int = 5,
    secret: str = "",
) -> OrderSource:
    """`source` with these settings, unsaved. An empty `secret` keeps the stored credential;
    a new one replaces all stored credentials."""
    source.kind = kind
    source.shop_url = shop_url
    source.timeout_seconds = timeout_seconds
    source.allowed_fields = list(allowed_fields)
    source.no_movement_days = no_movement_days
    if secret:
        source.credentials = {OrderSource.CREDENTIAL_KEYS[kind]: secret}
    return source


def order_source_update(*, source: OrderSource, secret: str = "", **settings: Any) -> OrderSource:
    """Store the brand's order source (`order_source_apply`'s settings; the credential is
    encrypted by its field)."""
    order_source_apply(source, secret=secret, **settings)
    source.save()
    logger.info(
        "orders.source.updated",
        extra={"brand": source.brand_id, "kind": source.kind, "credential_changed": bool(secret)},
    )
    return source


@dataclass(frozen=True)
class ConnectionCheck:
    result: str  # ok / auth_failed / unreachable / throttled / error
    message: str
    code: str = ""


def _connection_check(ask: Callable[[], None], *, service: str) -> ConnectionCheck:
    """What Test connection says of `ask()`, which returns if `service` answered and raises
    a ConnectorError if not."""
    try:
        ask()
    except ConnectorAuthError as error:
        return ConnectionCheck("auth_failed", "Authentication failed.", error.code)
    except ConnectorRateLimited as error:
        return ConnectionCheck("throttled", f"The {service} is throttling us.", error.code)
    except ConnectorUnavailable as error:
        return ConnectionCheck("unreachable", "Unreachable.", error.code)
    except ConnectorError as error:
        return ConnectionCheck("error", error.message, error.code)
    return ConnectionCheck("ok", f"OK: the {service} answered.")


def order_source_check(*, source: OrderSource) -> ConnectionCheck:
    """Ask the source's system whether it answers with these settings (the breaker is
    bypassed: an admin checking a fix must reach the real system)."""
    timeout = min(source.timeout_seconds, CHECK_TIMEOUT_SECONDS)
    check = _connection_check(
        lambda: connector_for(source, breaker=False).check(timeout=timeout), service="order system"
    )
    logger.info(
        "orders.source.checked",
        extra={"brand": source.brand_id, "kind": source.kind, "result": check.result},
    )
    return check


def carrier_source_apply(
    source: CarrierSource, *, kind: str, api_url: str, timeout_seconds: float, secret: str = ""
) -> CarrierSource:
    """`source` with these settings, unsaved. An empty `secret` keeps the stored key; a new
    one replaces all stored credentials."""
    source.kind = kind
    source.api_url = api_url
    source.timeout_seconds = timeout_seconds
    if secret:
        source.credentials = {CarrierSource.CREDENTIAL_KEYS[kind]: secret}
    return source


def carrier_source_update(
    *, source: CarrierSource, secret: str = "", **settings: Any
) -> CarrierSource:
    """Store the brand's carrier source (`carrier_source_apply`'s settings; the key is
    encrypted by its field)."""
    carrier_source_apply(source, secret=secret, **settings)
    source.save()
    logger.info(
        "orders.carrier_source.updated",
        extra={"brand": source.brand_id, "kind": source.kind, "credential_changed": bool(secret)},
    )
    return source


def carrier_source_check(*, source: CarrierSource) -> ConnectionCheck:
    """Ask the carrier source's service whether it answers with these settings (the breaker
    is bypassed, as for order sources)."""
    timeout = min(source.timeout_seconds, CHECK_TIMEOUT_SECONDS)
    if source.kind == CarrierSource.Kind.NONE:
        return ConnectionCheck("ok", "Nothing to test: no carrier lookups are configured.")
    check = _connection_check(
        lambda: carrier_for(source, breaker=False).check(timeout=timeout),
        service="tracking service",
    )
    logger.info(
        "orders.carrier_source.checked",
        extra={"brand": source.brand_id, "kind": source.kind, "result": check.result},
    )
    return check
