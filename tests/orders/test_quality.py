"""Data-quality findings (`orders.quality`) on vendor-shaped data: a Shopify order (the
local Shopify fake) merged with what AfterShip reports (its local fake), read through
`fetch_orders`, so each test asserts the finding, its evidence and what the model is handed.
Then the checks' edges on orders built by hand."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.utils import timezone

from copilot.tools import ToolContext
from orders import quality
from orders.models import CarrierSource
from orders.quality import CheckContext, check
from orders.schema import (
    DEFAULT_ALLOWED_FIELDS,
    CarrierTracking,
    Order,
    OrderStatus,
    Shipment,
    TrackingEvent,
)
from orders.tools import fetch_orders
from tests.factories import CustomerFactory, OrderSourceFactory, TicketFactory
from tests.fakes.aftership import API_KEY, checkpoint, tracking
from tests.fakes.shopify import TOKEN, fulfillment, order

PARCEL = "JD014600006281230799"


def iso(days: float) -> str:
    """A Shopify / AfterShip timestamp `days` from now (negative: ago)."""
    moment = timezone.now() + dt.timedelta(days=days)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(days: int) -> str:
    return (timezone.now() + dt.timedelta(days=days)).astimezone(dt.UTC).date().isoformat()


def shop_order(**fields: Any) -> dict[str, Any]:
    """Ana's order #2001 as the Shopify Admin API answers it."""
    values: dict[str, Any] = {
        "created": iso(-6),
        "fulfillment_status": "FULFILLED",
        "total": "129.00",
        "items": [("Rain shell jacket", 1)],
    }
    values.update(fields)
    return order("#2001", "ana@example.com", **values)


def shipped(display: str = "IN_TRANSIT", **fields: Any) -> dict[str, Any]:
    """A Shopify fulfillment of the DHL parcel `PARCEL`."""
    return fulfillment(
        display,
        company="DHL Express",
        number=PARCEL,
        url=f"https://www.dhl.com/track?id={PARCEL}",
        **fields,
    )


def scan(days: float, message: str = "Departed facility", **fields: Any) -> dict[str, Any]:
    """An AfterShip checkpoint `days` from now."""
    return checkpoint(iso(days), message, **fields)


def moving(**fields: Any) -> dict[str, Any]:
    """AfterShip tracking `PARCEL` in transit, scanned yesterday."""
    values: dict[str, Any] = {"subtag_message": "In Transit", "checkpoints": [scan(-1)]}
    values.update(fields)
    return tracking(PARCEL, "InTransit", **values)


def read(brand, shopify, aftership, *, allowed=None, memo=None) -> dict[str, Any]:
    """What `fetch_orders` hands the model for Ana, her brand reading Shopify and AfterShip."""
    if not hasattr(brand, "order_source"):
        OrderSourceFactory(
            brand=brand,
            kind="shopify",
            shop_url=shopify.shop_url,
            credentials={"access_token": TOKEN},
            allowed_fields=list(allowed or DEFAULT_ALLOWED_FIELDS),
        )
        CarrierSource.objects.create(
            brand=brand,
            kind=CarrierSource.Kind.AFTERSHIP,
            api_url=aftership.url,
            credentials={"api_key": API_KEY},
        )
        brand.refresh_from_db()
    customer = CustomerFactory(brand=brand, email="ana@example.com")
    ctx = ToolContext(
        brand=brand,
        ticket=TicketFactory(brand=brand, customer=customer),
        customer=customer,
        ticket_order_numbers=("2001",),
        deadline=time.monotonic() + 5,
        memo={} if memo is None else memo,
    )
    output = fetch_orders(ctx, {"order_number": "2001"})
    data = json.loads(json.dumps(output.data))  # as the engine sends it to the model
    data["_attributes"] = output.attributes
    return data


def only_finding(data: dict[str, Any], code: str) -> dict[str, Any]:
    """The order's one finding, which must be `code`; its codes also label the span."""
    findings = data["orders"][0]["findings"]
    assert [f["code"] for f in findings] == [code], findings
    assert data["_attributes"]["findings"] == [code]
    return findings[0]


@pytest.fixture
def ana_at(shopify, aftership):
    """Ana's shop holds only `shop_order`; AfterShip knows only the parcel given."""

    def setup(shop: dict[str, Any], carrier: dict[str, Any] | None = None) -> None:
        shopify.orders = [shop]
        aftership.trackings = [carrier] if carrier else []

    return setup


pytestmark = pytest.mark.django_db(transaction=True)


# --- one test per finding, on vendor-shaped answers ---------------------------------------


def test_status_conflict_shop_says_delivered_carrier_reports_an_exception(
    brand, shopify, aftership, ana_at
):
    ana_at(
        shop_order(fulfillments=[shipped("DELIVERED")]),
        tracking(
            PARCEL,
            "Exception",
            subtag="Exception_004",
            subtag_message="Address issue",
            checkpoints=[scan(-2), scan(-1, "Incorrect address", tag="Exception")],
        ),
    )

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "status_conflict")
    assert finding["severity"] == "critical"
    assert finding["evidence"] == [
        {"field": "status", "source": "Shopify", "value": "delivered", "parcel": PARCEL},
        {
            "field": "status",
            "source": "AfterShip",
            "value": "Exception: Address issue",
            "parcel": PARCEL,
        },
    ]
    # The model is handed both sides, and the finding's sentence says neither stands.
    shipment = data["orders"][0]["shipments"][0]
    assert shipment["status"] == "delivered"
    assert shipment["carrier_tracking"]["status"] == "delivery_exception"
    assert "neither can be confirmed" in finding["message"]


def test_no_movement_when_the_carrier_has_not_scanned_for_more_than_the_brands_days(
    brand, shopify, aftership, ana_at
):
    ana_at(
        shop_order(fulfillments=[shipped(estimated=iso(3))]),
        moving(
            checkpoints=[scan(-9, "Picked up"), scan(-8, "Arrived at customs")],
            latest={"type": "specific", "source": "Carrier EDD", "datetime": day(3)},
        ),
    )

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "no_movement")
    assert finding["severity"] == "warning"
    assert finding["message"].startswith("The carrier has recorded no scan for more than 5 days")
    last_scan, status = finding["evidence"]
    assert (last_scan["field"], last_scan["source"], last_scan["parcel"]) == (
        "last_scan",
        "AfterShip",
        PARCEL,
    )
    assert last_scan["value"][:10] == day(-8)
    assert status == {
        "field": "status",
        "source": "AfterShip",
        "value": "InTransit",
        "parcel": PARCEL,
    }


def test_eta_passed_when_the_shops_estimate_is_past_and_the_carrier_gave_none(
    brand, shopify, aftership, ana_at
):
    ana_at(shop_order(fulfillments=[shipped(estimated=iso(-3))]), moving())

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "eta_passed")
    assert finding["evidence"] == [
        {"field": "status", "source": "Shopify", "value": "in_transit"},
        {"field": "estimated_delivery", "source": "Shopify", "value": day(-3)},
    ]
    assert data["orders"][0]["estimated_delivery"] == day(-3)


def test_eta_passed_on_the_carriers_estimate_though_the_shops_is_ahead(
    brand, shopify, aftership, ana_at
):
    ana_at(
        shop_order(fulfillments=[shipped(estimated=iso(2))]),
        moving(courier_edd={"estimated_delivery_date": iso(-1)[:19]}),
    )

    finding = only_finding(read(brand, shopify, aftership), "eta_passed")

    assert finding["evidence"][1:] == [
        {"field": "estimated_delivery", "source": "Shopify", "value": day(2)},
        {"field": "expected_delivery", "source": "AfterShip", "value": day(-1), "parcel": PARCEL},
    ]


def test_missing_tracking_when_shopify_fulfilled_without_a_tracking_number(
    brand, shopify, aftership, ana_at
):
    ana_at(shop_order(fulfillments=[fulfillment("FULFILLED")]))

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "missing_tracking")
    assert finding["evidence"] == [
        {"field": "status", "source": "Shopify", "value": "in_transit"},
        {"field": "tracking_number", "source": "Shopify", "value": "(none)"},
    ]
    assert data["orders"][0]["shipments"][0]["tracking_number"] == ""
    assert aftership.tracking_requests() == []  # nothing to ask a carrier about


def test_no_carrier_scan_when_aftership_only_has_the_label(brand, shopify, aftership, ana_at):
    ana_at(
        shop_order(fulfillments=[shipped()]),
        tracking(
            PARCEL,
            "InfoReceived",
            subtag_message="Info Received",
            checkpoints=[scan(-2, "Shipment information received", tag="InfoReceived")],
        ),
    )

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "no_carrier_scan")
    assert finding["evidence"] == [
        {"field": "status", "source": "Shopify", "value": "in_transit", "parcel": PARCEL},
        {
            "field": "status",
            "source": "AfterShip",
            "value": "InfoReceived (label created, no carrier scan yet)",
            "parcel": PARCEL,
        },
    ]


def test_refunded_but_fulfilled_when_shopify_refunded_an_order_on_the_road(
    brand, shopify, aftership, ana_at
):
    ana_at(shop_order(financial="REFUNDED", refunded="129.00", fulfillments=[shipped()]), moving())

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "refunded_but_fulfilled")
    assert finding["severity"] == "critical"
    assert finding["evidence"] == [
        {"field": "financial_status", "source": "Shopify", "value": "refunded"},
        {"field": "status", "source": "AfterShip", "value": "InTransit", "parcel": PARCEL},
    ]
    assert data["orders"][0]["status"] == "refunded"


def test_cancelled_but_fulfilled_when_shopify_cancelled_an_order_on_the_road(
    brand, shopify, aftership, ana_at
):
    cancelled = iso(-4)
    ana_at(shop_order(cancelled_at=cancelled, fulfillments=[shipped()]), moving())

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "cancelled_but_fulfilled")
    assert finding["evidence"][0] == {
        "field": "cancelled_at",
        "source": "Shopify",
        "value": dt.datetime.fromisoformat(cancelled.replace("Z", "+00:00")).isoformat(
            timespec="minutes"
        ),
    }
    assert finding["evidence"][1]["source"] == "AfterShip"
    assert data["orders"][0]["status"] == "cancelled"


def test_partial_response_when_shopify_answers_a_field_with_an_error(
    brand, shopify, aftership, ana_at
):
    ana_at(shop_order(fulfillments=[shipped()]), moving())
    shopify.field_errors = {"#2001": "lineItems"}

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "partial_response")
    assert finding["evidence"] == [{"field": "items", "source": "Shopify", "value": "not read"}]
    assert finding["message"] == "Part of the order system's answer could not be read."
    assert data["orders"][0]["items"] == []  # the rest of the order still came through
    assert data["orders"][0]["shipments"][0]["carrier_tracking"]["status"] == "in_transit"


def test_partial_response_when_the_carrier_lookup_fails(brand, shopify, aftership, ana_at):
    ana_at(shop_order(fulfillments=[shipped()]), moving())
    aftership.fail("500", times=None)

    data = read(brand, shopify, aftership)

    finding = only_finding(data, "partial_response")
    assert finding["evidence"] == [
        {
            "field": "carrier_tracking",
            "source": "AfterShip",
            "value": "not read",
            "parcel": PARCEL,
            "error": "carrier_unavailable",
        }
    ]
    assert "only the shop's record is shown" in finding["message"]


def test_a_field_the_brand_hides_is_not_a_partial_response(brand, shopify, aftership, ana_at):
    ana_at(shop_order(fulfillments=[shipped()]), moving())
    shopify.field_errors = {"#2001": "lineItems"}

    data = read(brand, shopify, aftership, allowed=["number", "status", "shipments"])

    assert data["orders"][0]["findings"] == []
    assert "items" not in data["orders"][0]


def test_stale_data_when_the_run_answers_from_an_old_read(
    brand, shopify, aftership, ana_at, settings
):
    settings.ORDERS_MAX_DATA_AGE_SECONDS = 0.3
    ana_at(shop_order(fulfillments=[shipped()]), moving())
    memo: dict[str, Any] = {}
    first = read(brand, shopify, aftership, memo=memo)
    time.sleep(0.4)

    again = read(brand, shopify, aftership, memo=memo)  # answered from this run's memo

    assert first["orders"][0]["findings"] == []
    assert again["_attributes"]["cached"] is True
    finding = only_finding(again, "stale_data")
    assert [(e["field"], e["source"]) for e in finding["evidence"]] == [
        ("read_at", "Shopify"),
        ("checked_at", "AfterShip"),
    ]
    assert finding["evidence"][0]["value"] == first["read_at"]
    assert finding["message"] == (
        "Some of this data was read more than 0.3 seconds ago and may be out of date."
    )
    assert len(shopify.graphql_requests()) == 1


def test_evidence_never_shows_a_value_the_brand_hides(brand, shopify, aftership, ana_at):
    ana_at(
        shop_order(fulfillments=[shipped(estimated=iso(-3))]),
        moving(checkpoints=[scan(-9, "Picked up")]),
    )

    data = read(brand, shopify, aftership, allowed=["number", "status"])

    findings = data["orders"][0]["findings"]
    assert {f["code"] for f in findings} == {"no_movement", "eta_passed"}
    evidence = [item for f in findings for item in f["evidence"]]
    shown = {(e["field"], e["value"]) for e in evidence if e["value"] != quality.HIDDEN}
    assert shown == {("status", "in_transit")}  # the order status is allowed
    dumped = json.dumps(findings)
    for hidden in (day(-3), day(-9), PARCEL, "InTransit", "Picked up"):
        assert hidden not in dumped
    assert set(data["orders"][0]) == {"number", "status", "findings"}


def test_a_clean_order_has_no_findings(brand, shopify, aftership, ana_at):
    ana_at(
        shop_order(fulfillments=[shipped(estimated=iso(2))]),
        moving(latest={"type": "specific", "source": "Carrier EDD", "datetime": day(2)}),
    )

    data = read(brand, shopify, aftership)

    assert data["orders"][0]["findings"] == []
    assert data["_attributes"]["findings"] == []


# --- the checks' edges, on orders built by hand ----------------------------------------------

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
CTX = CheckContext(now=NOW, shop="Shopify", allowed=frozenset(DEFAULT_ALLOWED_FIELDS))


def parcel(status: OrderStatus, report: CarrierTracking | None = None, **fields: Any) -> Shipment:
    return Shipment(carrier="DHL", tracking_number="JD1", status=status, tracking=report, **fields)


def report(status: OrderStatus | None, *, scanned_days_ago: float | None = 1, **fields: Any):
    events = (
        (TrackingEvent(NOW - dt.timedelta(days=scanned_days_ago), "Scan"),)
        if scanned_days_ago is not None
        else ()
    )
    return CarrierTracking(
        source="AfterShip", checked_at=NOW, status=status, events=events, **fields
    )


def codes(order_status: OrderStatus, *shipments: Shipment, ctx=CTX, **fields: Any) -> list[str]:
    order = Order(number="1", created_at=NOW, status=order_status, shipments=shipments, **fields)
    return [finding.code for finding in check(order, ctx)]


@pytest.mark.parametrize(
    ("shop", "carrier", "expected"),
    [
        (OrderStatus.IN_TRANSIT, OrderStatus.OUT_FOR_DELIVERY, []),  # the same phase
        (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED, ["status_conflict"]),
        (OrderStatus.DELIVERED, OrderStatus.RETURNED, ["status_conflict"]),
        (OrderStatus.DELIVERED, None, ["status_conflict"]),  # delivered, never scanned
        (OrderStatus.IN_TRANSIT, None, ["no_carrier_scan"]),
    ],
)
def test_which_disagreements_are_conflicts(shop, carrier, expected):
    assert codes(shop, parcel(shop, report(carrier))) == expected


@pytest.mark.parametrize(("days", "expected"), [(4.9, []), (5.1, ["no_movement"])])
def test_no_movement_starts_after_the_brands_days(days, expected):
    moving_parcel = parcel(
        OrderStatus.IN_TRANSIT, report(OrderStatus.IN_TRANSIT, scanned_days_ago=days)
    )
    assert codes(OrderStatus.IN_TRANSIT, moving_parcel) == expected


def test_zero_days_turns_the_stall_check_off():
    stalled = parcel(OrderStatus.IN_TRANSIT, report(OrderStatus.IN_TRANSIT, scanned_days_ago=30))
    off = CheckContext(now=NOW, shop="Shopify", allowed=CTX.allowed, no_movement_days=0)
    assert codes(OrderStatus.IN_TRANSIT, stalled, ctx=off) == []


def test_the_shops_relayed_scans_count_when_no_carrier_answered():
    old = TrackingEvent(NOW - dt.timedelta(days=8), "Departed facility")
    assert codes(OrderStatus.IN_TRANSIT, parcel(OrderStatus.IN_TRANSIT, events=(old,))) == [
        "no_movement"
    ]


@pytest.mark.parametrize(
    ("estimate", "status", "expected"),
    [
        (NOW.date(), OrderStatus.IN_TRANSIT, []),  # due today: not passed yet
        (NOW.date() - dt.timedelta(days=1), OrderStatus.IN_TRANSIT, ["eta_passed"]),
        (NOW.date() - dt.timedelta(days=1), OrderStatus.DELIVERED, []),
        (NOW.date() - dt.timedelta(days=1), OrderStatus.PAID, ["eta_passed"]),  # never shipped
    ],
)
def test_eta_passed_edges(estimate, status, expected):
    shipments = () if status == OrderStatus.PAID else (parcel(status),)
    assert codes(status, *shipments, estimated_delivery=estimate) == expected


def test_a_fresh_carrier_estimate_outweighs_the_shops_passed_one():
    later = report(OrderStatus.IN_TRANSIT, expected_delivery=NOW.date() + dt.timedelta(days=2))
    assert (
        codes(
            OrderStatus.IN_TRANSIT,
            parcel(OrderStatus.IN_TRANSIT, later),
            estimated_delivery=NOW.date() - dt.timedelta(days=3),
        )
        == []
    )


def test_partial_refunds_and_delivered_orders_without_tracking_are_normal():
    partial = codes(
        OrderStatus.PARTIALLY_REFUNDED,
        parcel(OrderStatus.DELIVERED),
        financial_status="partially_refunded",
        total=100,
        refunded_total=30,
    )
    untracked_delivered = codes(
        OrderStatus.DELIVERED,
        Shipment(carrier="La Poste", tracking_number="", status=OrderStatus.DELIVERED),
    )
    assert partial == [] and untracked_delivered == []


def test_each_finding_code_has_words_and_a_severity():
    assert set(quality.FINDING_CODES) == set(quality.TITLES)
    assert len(quality.FINDING_CODES) == 9
    assert all(quality.TITLES[code][0].isupper() for code in quality.FINDING_CODES)
