"""Data-quality checks on one merged order: what makes a reassuring answer unsafe.

`check(order, context)` reads an `Order` (the shop's record, each shipment with the carrier's
own report merged in) and returns its `Finding`s: a stable code, a severity, a plain
sentence for the model and the agent, and the evidence (which field, from which source,
says what). Pure functions: no I/O, no settings, the clock passed in, so `fetch_orders`,
the tests and the benchmark call them the same way.

The evidence never shows a value of a field the brand hides: such an item keeps its
field and source, with `HIDDEN` as its value, so the finding still warns without leaking.
A field missing because the brand hides it is never a finding either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from orders.schema import CarrierTracking, Finding, Order, OrderStatus, Shipment

STATUS_CONFLICT = "status_conflict"
NO_MOVEMENT = "no_movement"
ETA_PASSED = "eta_passed"
MISSING_TRACKING = "missing_tracking"
NO_CARRIER_SCAN = "no_carrier_scan"
REFUNDED_BUT_FULFILLED = "refunded_but_fulfilled"
CANCELLED_BUT_FULFILLED = "cancelled_but_fulfilled"
PARTIAL_RESPONSE = "partial_response"
STALE_DATA = "stale_data"

CRITICAL = "critical"
WARNING = "warning"

# Each code in a few plain words, for the trace panel, the review queue and the metrics.
TITLES: dict[str, str] = {
    STATUS_CONFLICT: "The shop and the carrier disagree on the parcel's status",
    NO_MOVEMENT: "No carrier scan for days while in transit",
    ETA_PASSED: "The expected delivery date has passed",
    MISSING_TRACKING: "Shipped without a tracking number",
    NO_CARRIER_SCAN: "Label created, but the carrier never scanned the parcel",
    REFUNDED_BUT_FULFILLED: "Refunded, yet shipped",
    CANCELLED_BUT_FULFILLED: "Cancelled, yet shipped",
    PARTIAL_RESPONSE: "Some order data could not be read",
    STALE_DATA: "The order data may be out of date",
}
FINDING_CODES: tuple[str, ...] = tuple(TITLES)
# A critical finding contradicts itself (the order cannot be both); a warning is a gap or a
# delay to check.
SEVERITY: dict[str, str] = {
    STATUS_CONFLICT: CRITICAL,
    NO_MOVEMENT: WARNING,
    ETA_PASSED: WARNING,
    MISSING_TRACKING: WARNING,
    NO_CARRIER_SCAN: WARNING,
    REFUNDED_BUT_FULFILLED: CRITICAL,
    CANCELLED_BUT_FULFILLED: CRITICAL,
    PARTIAL_RESPONSE: WARNING,
    STALE_DATA: WARNING,
}
SEVERITY_WORDS = {CRITICAL: "Serious", WARNING: "Check"}
# The value an evidence item shows for a field the brand hides.
HIDDEN = "[hidden]"
NOT_READ = "not read"
NONE = "(none)"
# Connectors that read an order only in part list the `Order` fields they could not read
# here, in `Order.extra` (e.g. Shopify answering a field with a GraphQL field error).
INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class CheckContext:
    """What the checks know beside the order: the time, who answered, what the brand shows."""

    now: dt.datetime
    shop: str  # the order system's label, as agents see it: "Shopify", "Demo store"
    allowed: frozenset[str]  # the brand's allowed order fields
    no_movement_days: int = 5  # 0 turns the stall check off
    read_at: dt.datetime | None = None  # when the shop's data was read (a memo may be old)
    max_age_seconds: float = 600.0


# Where a status puts a parcel: statuses in the same phase never contradict each other.
_MOVING, _DELIVERED, _EXCEPTION, _RETURNED, _NOT_SHIPPED = (
    "moving",
    "delivered",
    "exception",
    "returned",
    "not shipped",
)
_PHASE: dict[OrderStatus, str] = {
    OrderStatus.IN_TRANSIT: _MOVING,
    OrderStatus.OUT_FOR_DELIVERY: _MOVING,
    OrderStatus.PARTIALLY_SHIPPED: _MOVING,
    OrderStatus.DELIVERED: _DELIVERED,
    OrderStatus.DELIVERY_EXCEPTION: _EXCEPTION,
    OrderStatus.RETURNED: _RETURNED,
    OrderStatus.PLACED: _NOT_SHIPPED,
    OrderStatus.PAID: _NOT_SHIPPED,
    OrderStatus.UNFULFILLED: _NOT_SHIPPED,
}
_SENT_PHASES = frozenset({_MOVING, _DELIVERED, _EXCEPTION})
_DONE = frozenset(
    {OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.RETURNED}
)


def _item(
    ctx: CheckContext,
    field: str,
    source: str,
    value: str,
    *,
    shown_with: str | None,
    parcel: Shipment | None = None,
) -> dict[str, str]:
    """One evidence item; its value is withheld when the brand hides `shown_with`. An item
    about one parcel names it by its tracking number (`parcel`) when shipments are shown."""
    visible = shown_with is None or shown_with in ctx.allowed
    item = {"field": field, "source": source, "value": value if visible else HIDDEN}
    if parcel is not None and parcel.tracking_number and "shipments" in ctx.allowed:
        item["parcel"] = parcel.tracking_number
    return item


def _report(shipment: Shipment) -> CarrierTracking | None:
    """The carrier's report on the parcel, when the lookup succeeded."""
    tracking = shipment.tracking
    return tracking if tracking is not None and not tracking.error else None


def _now_status(shipment: Shipment) -> OrderStatus:
    """The parcel's status as best known: the carrier's when it gave one, else the shop's."""
    report = _report(shipment)
    return report.status if report is not None and report.status else shipment.status


def _carrier_words(report: CarrierTracking) -> str:
    return report.status_detail or (str(report.status) if report.status else NONE)


def _sent(order: Order) -> list[Shipment]:
    """The parcels that left the warehouse: moving, delivered or held up."""
    return [s for s in order.shipments if _PHASE.get(_now_status(s)) in _SENT_PHASES]


def _status_item(ctx: CheckContext, order: Order) -> dict[str, str]:
    """The order's status, as the shop gives it."""
    return _item(ctx, "status", ctx.shop, str(order.status), shown_with="status")


def _shop_says(ctx: CheckContext, shipment: Shipment) -> dict[str, str]:
    """The parcel's status, as the shop gives it."""
    return _item(
        ctx, "status", ctx.shop, str(shipment.status), shown_with="shipments", parcel=shipment
    )


def _carrier_says(ctx: CheckContext, shipment: Shipment, report: CarrierTracking) -> dict:
    """The parcel's status, in the carrier's words."""
    words = _carrier_words(report)
    return _item(ctx, "status", report.source, words, shown_with="shipments", parcel=shipment)


def _best_known(ctx: CheckContext, shipment: Shipment) -> dict[str, str]:
    """The parcel's status as best known: the carrier's when it gave one, else the shop's."""
    report = _report(shipment)
    if report is not None and report.status:
        return _carrier_says(ctx, shipment, report)
    return _shop_says(ctx, shipment)


# --- the checks: each yields at most one finding for the order --------------------------


def _finding(code: str, message: str, evidence: Iterable[dict[str, str]]) -> Finding:
    return Finding(code, SEVERITY[code], message, tuple(evidence))


def _status_conflict(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    evidence: list[dict[str, str]] = []
    for shipment in order.shipments:
        report = _report(shipment)
        if report is None:
            continue
        # No status from the carrier means it has not scanned the parcel (see CarrierTracking).
        shop = _PHASE.get(shipment.status)
        carrier = _PHASE.get(report.status) if report.status else _NOT_SHIPPED
        if shop is None or carrier is None or shop == carrier:
            continue
        if _NOT_SHIPPED in (shop, carrier) and shop != _DELIVERED:
            continue  # a label the carrier has not scanned yet: `no_carrier_scan`
        evidence += [_shop_says(ctx, shipment), _carrier_says(ctx, shipment, report)]
    if evidence:
        yield _finding(
            STATUS_CONFLICT,
            "The shop and the carrier report different statuses for this parcel, so neither "
            "can be confirmed to the customer yet.",
            evidence,
        )


def _no_movement(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.no_movement_days <= 0:
        return
    limit = dt.timedelta(days=ctx.no_movement_days)
    evidence: list[dict[str, str]] = []
    for shipment in order.shipments:
        if _PHASE.get(_now_status(shipment)) != _MOVING:
            continue
        report = _report(shipment)
        # The carrier's own scans when it answered, else the ones the shop relays.
        events, source = (
            (report.events, report.source) if report and report.events else (shipment.events, "")
        )
        if not events:
            continue  # never scanned at all: `no_carrier_scan`, when the carrier says so
        last = max(event.time for event in events)
        if ctx.now - last > limit:
            evidence += [
                _item(
                    ctx,
                    "last_scan",
                    source or ctx.shop,
                    last.isoformat(timespec="minutes"),
                    shown_with="shipments",
                    parcel=shipment,
                ),
                _best_known(ctx, shipment),
            ]
    if evidence:
        days = ctx.no_movement_days
        yield _finding(
            NO_MOVEMENT,
            f"The carrier has recorded no scan for more than {days} day{'s' if days > 1 else ''} "
            "while the parcel is in transit.",
            evidence,
        )


def _eta_passed(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    if order.status in _DONE:
        return
    if order.shipments and all(_now_status(s) == OrderStatus.DELIVERED for s in order.shipments):
        return
    carrier_dates = [
        (shipment, report.source, report.expected_delivery)
        for shipment in order.shipments
        if (report := _report(shipment)) is not None
        and report.expected_delivery is not None
        and _now_status(shipment) != OrderStatus.DELIVERED
    ]
    # The carrier's estimate is the fresher one when it gave one; else the shop's stands.
    if carrier_dates:
        expected = max(day for _, _, day in carrier_dates)
    elif order.estimated_delivery is not None:
        expected = order.estimated_delivery
    else:
        return
    if expected >= ctx.now.date():
        return
    evidence = [_status_item(ctx, order)]
    if order.estimated_delivery is not None:
        evidence.append(
            _item(
                ctx,
                "estimated_delivery",
                ctx.shop,
                order.estimated_delivery.isoformat(),
                shown_with="estimated_delivery",
            )
        )
    evidence += [
        _item(
            ctx,
            "expected_delivery",
            source,
            day.isoformat(),
            shown_with="shipments",
            parcel=shipment,
        )
        for shipment, source, day in carrier_dates
    ]
    yield _finding(
        ETA_PASSED,
        "The expected delivery date has passed and the order is not delivered.",
        evidence,
    )


def _missing_tracking(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    untracked = [
        s
        for s in order.shipments
        if not s.tracking_number.strip() and _PHASE.get(s.status) in {_MOVING, _EXCEPTION}
    ]
    shipped_without_parcel = not order.shipments and _PHASE.get(order.status) == _MOVING
    if not (untracked or shipped_without_parcel):
        return
    yield _finding(
        MISSING_TRACKING,
        "The order is marked as shipped, but no tracking number is recorded for it.",
        (
            _status_item(ctx, order),
            _item(ctx, "tracking_number", ctx.shop, NONE, shown_with="shipments"),
        ),
    )


def _no_carrier_scan(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    evidence: list[dict[str, str]] = []
    for shipment in order.shipments:
        report = _report(shipment)
        if report is None or not shipment.tracking_number.strip():
            continue
        if _PHASE.get(shipment.status) != _MOVING:
            continue
        # No status (AfterShip's Pending, InfoReceived) or one before any pick-up.
        if report.status is not None and _PHASE.get(report.status) != _NOT_SHIPPED:
            continue
        evidence += [_shop_says(ctx, shipment), _carrier_says(ctx, shipment, report)]
    if evidence:
        yield _finding(
            NO_CARRIER_SCAN,
            "A shipping label exists, but the carrier has not scanned the parcel yet.",
            evidence,
        )


def _fully_refunded(order: Order) -> bool:
    if order.status == OrderStatus.REFUNDED or order.financial_status.lower() == "refunded":
        return True
    total, refunded = order.total, order.refunded_total
    return bool(total and refunded is not None and total > Decimal(0) and refunded >= total)


def _refunded_but_fulfilled(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    sent = _sent(order)
    if not sent or not _fully_refunded(order):
        return
    money = (
        _item(
            ctx, "financial_status", ctx.shop, order.financial_status, shown_with="financial_status"
        )
        if order.financial_status
        else _status_item(ctx, order)
    )
    yield _finding(
        REFUNDED_BUT_FULFILLED,
        "The order is marked as refunded, yet a parcel was shipped.",
        (money, *(_best_known(ctx, shipment) for shipment in sent)),
    )


def _cancelled_but_fulfilled(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    sent = _sent(order)
    if not sent or not (order.status == OrderStatus.CANCELLED or order.cancelled_at):
        return
    cancelled = (
        _item(
            ctx,
            "cancelled_at",
            ctx.shop,
            order.cancelled_at.isoformat(timespec="minutes"),
            shown_with="cancelled_at",
        )
        if order.cancelled_at
        else _status_item(ctx, order)
    )
    yield _finding(
        CANCELLED_BUT_FULFILLED,
        "The order is marked as cancelled, yet a parcel was shipped.",
        (cancelled, *(_best_known(ctx, shipment) for shipment in sent)),
    )


def _partial_response(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    unread = [name for name in order.extra.get(INCOMPLETE, ()) if name in ctx.allowed]
    failed = [s for s in order.shipments if s.tracking is not None and s.tracking.error]
    if not (unread or failed):
        return
    evidence = [_item(ctx, name, ctx.shop, NOT_READ, shown_with=None) for name in unread]
    evidence += [
        {
            **_item(
                ctx, "carrier_tracking", s.tracking.source, NOT_READ, shown_with=None, parcel=s
            ),
            "error": s.tracking.error,
        }
        for s in failed
        if s.tracking is not None
    ]
    sentences = []
    if unread:
        sentences.append("Part of the order system's answer could not be read.")
    if failed:
        sentences.append(
            "The carrier's tracking could not be read; only the shop's record is shown."
        )
    yield _finding(PARTIAL_RESPONSE, " ".join(sentences), evidence)


def _stale_data(order: Order, ctx: CheckContext) -> Iterator[Finding]:
    bound = dt.timedelta(seconds=ctx.max_age_seconds)
    evidence = []
    if ctx.read_at is not None and ctx.now - ctx.read_at > bound:
        evidence.append(
            _item(
                ctx, "read_at", ctx.shop, ctx.read_at.isoformat(timespec="seconds"), shown_with=None
            )
        )
    for shipment in order.shipments:
        report = _report(shipment)
        if report is not None and ctx.now - report.checked_at > bound:
            evidence.append(
                _item(
                    ctx,
                    "checked_at",
                    report.source,
                    report.checked_at.isoformat(timespec="seconds"),
                    shown_with="shipments",
                    parcel=shipment,
                )
            )
    if evidence:
        yield _finding(
            STALE_DATA,
            f"Some of this data was read more than {_age_words(ctx.max_age_seconds)} ago and "
            "may be out of date.",
            evidence,
        )


def _age_words(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


CHECKS: tuple[Callable[[Order, CheckContext], Iterator[Finding]], ...] = (
    _status_conflict,
    _no_movement,
    _eta_passed,
    _missing_tracking,
    _no_carrier_scan,
    _refunded_but_fulfilled,
    _cancelled_but_fulfilled,
    _partial_response,
    _stale_data,
)


def check(order: Order, ctx: CheckContext) -> tuple[Finding, ...]:
    """The findings of `order`, at most one per code, in the order of `FINDING_CODES`."""
    return tuple(finding for run in CHECKS for finding in run(order, ctx))


def with_findings(order: Order, ctx: CheckContext) -> Order:
    """`order` with its findings set (any it carried before are replaced)."""
    return replace(order, findings=check(order, ctx))
