"""The Shopify connector against a local Admin GraphQL server: normalized field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from orders.connectors import shopify as shopify_module
from orders.connectors.base import (
    ConnectorAuthError,
    ConnectorBadResponse,
    ConnectorRateLimited,
    ConnectorTimeout,
    ConnectorUnavailable,
)
from orders.connectors.shopify import API_VERSION, ShopifyConnector
from orders.schema import LineItem, Order, OrderStatus, Shipment, TrackingEvent
from tests.fakes.shopify import TOKEN

UTC = dt.UTC
ADDRESS = "12 Rue Secrète, 69001, Lyon, FR"
PHONE = "+33 6 12 34 56 78"


def connector(fake, *, token: str = TOKEN, call_timeout: float = 2.0) -> ShopifyConnector:
    return ShopifyConnector(
        shop_url=fake.shop_url, access_token=token, call_timeout=call_timeout, source_key="t"
    )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


EXPECTED = {
    "1001": Order(
        number="1001",
        created_at=at("2026-11-19T08:30:00"),
        status=OrderStatus.IN_TRANSIT,
        financial_status="paid",
        items=(LineItem("Linen shirt", 1), LineItem("Wool socks", 2)),
        shipments=(
            Shipment(
                carrier="DHL Express",
                tracking_number="JD014600006281230701",
                tracking_url="https://www.dhl.com/track?id=JD014600006281230701",
                status=OrderStatus.DELIVERED,
                events=(TrackingEvent(at("2026-11-21T14:05:00"), "Delivered", "Lyon, France"),),
            ),
            Shipment(
                carrier="UPS",
                tracking_number="1Z999AA10123456784",
                tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
                status=OrderStatus.IN_TRANSIT,
                events=(
                    TrackingEvent(at("2026-11-22T06:10:00"), "Departed facility", "Köln, Germany"),
                ),
            ),
        ),
        estimated_delivery=dt.date(2026, 11, 28),
        total=Decimal("89.50"),
        currency="EUR",
        source_status="FULFILLED",
        customer_email="ana@example.com",
        shipping_address=ADDRESS,
        phone=PHONE,
    ),
    "1002": Order(
        number="1002",
        created_at=at("2026-11-18T08:30:00"),
        status=OrderStatus.PARTIALLY_SHIPPED,
        financial_status="paid",
        items=(LineItem("Desk lamp", 1), LineItem("Bulb", 3)),
        shipments=(
            Shipment(
                carrier="La Poste",
                tracking_number="6A12345678901",
                tracking_url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
                status=OrderStatus.IN_TRANSIT,
            ),
        ),
        total=Decimal("59.90"),
        currency="EUR",
        source_status="PARTIALLY_FULFILLED",
        customer_email="ana@example.com",
        shipping_address=ADDRESS,
        phone=PHONE,
    ),
    "1003": Order(
        number="1003",
        created_at=at("2026-11-10T08:30:00"),
        status=OrderStatus.CANCELLED,
        financial_status="refunded",
        items=(LineItem("Mug", 1),),
        total=Decimal("25.00"),
        currency="EUR",
        cancelled_at=at("2026-11-11T09:00:00"),
        refunded_total=Decimal("25.00"),
        source_status="UNFULFILLED",
        customer_email="ana@example.com",
        shipping_address=ADDRESS,
        phone=PHONE,
    ),
    "1004": Order(
        number="1004",
        created_at=at("2026-11-09T08:30:00"),
        status=OrderStatus.REFUNDED,
        financial_status="refunded",
        items=(LineItem("Mug", 1),),
        shipments=(Shipment("DPD", "0150123456", OrderStatus.DELIVERED),),
        total=Decimal("40.00"),
        currency="EUR",
        refunded_total=Decimal("40.00"),
        source_status="FULFILLED",
        customer_email="bob@example.com",
        shipping_address=ADDRESS,
        phone=PHONE,
    ),
    "1005": Order(
        number="1005",
        created_at=at("2026-11-08T08:30:00"),
        status=OrderStatus.IN_TRANSIT,
        financial_status="paid",
        items=(LineItem("Mug", 1),),
        shipments=(Shipment("", "", OrderStatus.IN_TRANSIT),),
        total=Decimal("59.90"),
        currency="EUR",
        source_status="FULFILLED",
        customer_email="bob@example.com",
        shipping_address=ADDRESS,
        phone=PHONE,
    ),
    "1006": Order(
        number="1006",
        created_at=at("2026-11-07T08:30:00"),
        status=OrderStatus.OUT_FOR_DELIVERY,
        financial_status="partially_refunded",
        items=(LineItem("Pull à capuche écru", 1), LineItem("Écharpe 🧣", 1)),
        shipments=(
            Shipment(
                carrier="Colis Privé",
                tracking_number="CP00112233",
                status=OrderStatus.OUT_FOR_DELIVERY,
                events=(
                    TrackingEvent(
                        at("2026-11-23T07:45:00"), "En cours de livraison", "Zürich, Suisse"
                    ),
                ),
            ),
        ),
        total=Decimal("120.00"),
        currency="EUR",
        refunded_total=Decimal("30.00"),
        source_status="FULFILLED",
        customer_email="zoe@example.com",
        shipping_address=ADDRESS,
        phone=PHONE,
    ),
}


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_each_order_normalizes_field_by_field(shopify, number):
    found = connector(shopify).order_by_number(number=number, timeout=5)

    assert found == EXPECTED[number]


def test_customer_orders_are_newest_first_and_exact_email_only(shopify):
    orders = connector(shopify).orders_for_customer(email="ANA@example.com", limit=3, timeout=5)

    assert orders == [EXPECTED["1001"], EXPECTED["1002"], EXPECTED["1003"]]
    request = shopify.graphql_requests()[0]
    assert request.path == f"/admin/api/{API_VERSION}/graphql.json"
    assert request.headers["x-shopify-access-token"] == TOKEN
    assert json.loads(request.body)["variables"]["query"] == 'email:"ana@example.com"'


def test_fuzzy_search_hits_of_other_people_are_dropped(shopify):
    # Shopify's `email:` search also matches hana@example.com; only exact owners come back.
    orders = connector(shopify).orders_for_customer(email="ana@example.com", limit=10, timeout=5)
    assert {o.customer_email for o in orders} == {"ana@example.com"}
    # `name:1001` also matches #10011; only #1001 is returned.
    assert connector(shopify).order_by_number(number="#1001", timeout=5).number == "1001"


def test_unknown_number_is_none(shopify):
    assert connector(shopify).order_by_number(number="9999", timeout=5) is None


def test_page_cap_bounds_the_reads(shopify, settings, monkeypatch):
    monkeypatch.setattr(shopify_module, "PAGE_SIZE", 1)
    settings.ORDERS_SHOPIFY_MAX_PAGES = 2

    orders = connector(shopify).orders_for_customer(email="ana@example.com", limit=10, timeout=5)

    assert [o.number for o in orders] == ["1001", "1002"]
    assert len(shopify.graphql_requests()) == 2


def test_wrong_token_is_an_auth_error(shopify):
    with pytest.raises(ConnectorAuthError) as error:
        connector(shopify, token="shpat_wrong").orders_for_customer(
            email="ana@example.com", limit=3, timeout=5
        )
    assert error.value.code == "order_source_auth_failed"
    assert len(shopify.requests) == 1  # never retried


def test_throttled_answer_is_retried_after_the_bucket_refills(shopify):
    shopify.restore_rate = 1000.0  # (52 - 10) / 1000 s = 42 ms
    shopify.fail("throttled", times=1)

    orders = connector(shopify).orders_for_customer(email="ana@example.com", limit=1, timeout=5)

    assert [o.number for o in orders] == ["1001"]
    assert len(shopify.requests) == 2


def test_throttle_that_cannot_refill_before_the_deadline_fails_fast(shopify):
    shopify.restore_rate = 1.0  # would need 42 s
    shopify.fail("throttled", times=None)

    with pytest.raises(ConnectorRateLimited) as error:
        connector(shopify).orders_for_customer(email="ana@example.com", limit=1, timeout=2)
    assert error.value.code == "order_source_throttled"
    assert len(shopify.requests) == 1


def test_spent_bucket_is_waited_for_before_querying(shopify):
    """The cost reported by one answer is budgeted before the next query."""
    client = connector(shopify)
    shopify.restore_rate = 1.0
    shopify.fail("throttled", times=1)
    with pytest.raises(ConnectorRateLimited):
        client.orders_for_customer(email="ana@example.com", limit=1, timeout=1)

    # The bucket (10 of 52 needed, refilling 1/s) cannot hold a query within 1 s: no request.
    with pytest.raises(ConnectorRateLimited):
        client.order_by_number(number="1001", timeout=1)
    assert len(shopify.requests) == 1


def test_500_then_success_is_retried(shopify):
    shopify.fail("500", times=2)

    orders = connector(shopify).orders_for_customer(email="bob@example.com", limit=3, timeout=5)

    assert [o.number for o in orders] == ["1004", "1005"]
    assert len(shopify.requests) == 3


def test_500_every_time_gives_up_after_bounded_retries(shopify, settings):
    settings.ORDERS_HTTP_MAX_RETRIES = 2
    shopify.fail("500", times=None)

    with pytest.raises(ConnectorUnavailable) as error:
        connector(shopify).orders_for_customer(email="bob@example.com", limit=3, timeout=5)
    assert error.value.code == "order_source_unavailable"
    assert len(shopify.requests) == 3


def test_timeout_is_typed_and_bounded_by_the_call_timeout(shopify):
    shopify.fail("timeout", times=None)

    with pytest.raises(ConnectorTimeout) as error:
        connector(shopify, call_timeout=0.3).orders_for_customer(
            email="bob@example.com", limit=3, timeout=5
        )
    assert error.value.code == "order_source_timeout"


def test_malformed_json_is_a_bad_response(shopify):
    shopify.fail("malformed", times=None)

    with pytest.raises(ConnectorBadResponse) as error:
        connector(shopify).orders_for_customer(email="bob@example.com", limit=3, timeout=5)
    assert error.value.code == "order_source_bad_response"


def test_unexpected_order_shape_is_a_bad_response(shopify):
    del shopify.orders[0]["createdAt"]

    with pytest.raises(ConnectorBadResponse):
        connector(shopify).order_by_number(number="1001", timeout=5)
