"""Asking a carrier connector about several parcels at once, within one deadline.

The parcels of a customer's orders are looked up concurrently in a small thread pool, so
three parcels take about as long as one. A lookup never raises: a parcel whose lookup
failed gets `CarrierTracking(error=<code>)` and the order data still stands. Whatever is
still running at the deadline is reported as `carrier_timeout` and left to finish a read
whose result is dropped (connectors only read).

The pool's threads must not touch the database (Django's connections are per thread, and
nothing would close theirs): connectors read what they need before (see
`orders.carriers.carrier_for`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.utils.timezone import now

from orders.carriers.base import CarrierConnector, CarrierTimeout, TrackingNotFound
from orders.connectors.base import ConnectorError
from orders.schema import CarrierTracking

logger = logging.getLogger(__name__)

# Lookups in flight at once for one tool call; an order rarely has more parcels.
MAX_PARALLEL = 4
# A lookup that honours the deadline reports its own, more precise error just after it.
DEADLINE_GRACE_SECONDS = 0.05
FAILED = "carrier_failed"  # a connector crashed (a bug, logged with its traceback)


def normalize_tracking_number(value: str) -> str:
    """A tracking number as compared: no spaces, no leading '#', upper case."""
    return re.sub(r"\s+", "", value).lstrip("#").upper()


@dataclass(frozen=True)
class Parcel:
    """One tracking number as the shop names it, with the shop's carrier name."""

    tracking_number: str
    carrier: str

    @property
    def key(self) -> tuple[str, str]:
        """The same parcel however it is spelled: looked up once per run."""
        return normalize_tracking_number(self.tracking_number), self.carrier.strip().lower()


def failed_report(source: str, code: str) -> CarrierTracking:
    """The report of a parcel whose lookup failed with `code`."""
    return CarrierTracking(source=source, checked_at=now(), error=code)


def track_parcels(
    connector: CarrierConnector, parcels: Sequence[Parcel], *, deadline: float
) -> dict[Parcel, CarrierTracking]:
    """Each parcel's report, asked concurrently, returned by `deadline` (a `time.monotonic()`
    value) at the latest; never raises for a failed lookup."""
    if not parcels:
        return {}
    if deadline - time.monotonic() <= 0:
        return {parcel: failed_report(connector.label, CarrierTimeout.code) for parcel in parcels}
    pool = ThreadPoolExecutor(
        max_workers=min(MAX_PARALLEL, len(parcels)), thread_name_prefix="orders-carrier"
    )
    try:
        futures: dict[Future[CarrierTracking], Parcel] = {
            pool.submit(_track, connector, parcel, deadline): parcel for parcel in parcels
        }
        done, _late = wait(
            futures, timeout=max(0.0, deadline - time.monotonic()) + DEADLINE_GRACE_SECONDS
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    reports: dict[Parcel, CarrierTracking] = {}
    for future, parcel in futures.items():
        if future in done:
            reports[parcel] = future.result()
        else:
            logger.warning("orders.carriers.cut_at_deadline", extra={"carrier": connector.label})
            reports[parcel] = failed_report(connector.label, CarrierTimeout.code)
    return reports


def _track(connector: CarrierConnector, parcel: Parcel, deadline: float) -> CarrierTracking:
    """One lookup in a pool thread: the carrier's report, or the report of its failure."""
    timeout = deadline - time.monotonic()
    if timeout <= 0:
        return failed_report(connector.label, CarrierTimeout.code)
    try:
        return connector.track(
            tracking_number=parcel.tracking_number, carrier=parcel.carrier, timeout=timeout
        )
    except ConnectorError as error:
        # A parcel the service does not track is an answer, not a fault of the service.
        level = logging.INFO if isinstance(error, TrackingNotFound) else logging.WARNING
        logger.log(
            level,
            "orders.carriers.lookup_failed",
            extra={"carrier": connector.label, "code": error.code},
        )
        return failed_report(connector.label, error.code)
    except Exception:  # a carrier's bug must not fail the order lookup it only adds to
        logger.exception("orders.carriers.lookup_crashed", extra={"carrier": connector.label})
        return failed_report(connector.label, FAILED)
