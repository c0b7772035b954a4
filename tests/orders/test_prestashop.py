"""The PrestaShop connector against a local webservice: normalized field by field."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest

from orders.connectors.base import (
    ConnectorAuthError,
    ConnectorBadResponse,
    ConnectorRateLimited,
    ConnectorTimeout,
    ConnectorUnavailable,
)
from orders.connectors.prestashop import PrestaShopConnector
from orders.schema import LineItem, Order, OrderStatus, Shipment
from tests.fakes.prestashop import API_KEY


def connector(fake, *, key: str = API_KEY, call_timeout: float = 2.0) -> PrestaShopConnector:
    return PrestaShopConnector(
        shop_url=fake.shop_url, api_key=key, call_timeout=call_timeout, source_key="t"
    )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


COLISSIMO = "https://www.laposte.fr/outils/suivre-vos-envois?code="
EXPECTED = {
    "XKBKNABJK": Order(
        number="XKBKNABJK",
        created_at=at("2026-11-13 08:30:00"),
        status=OrderStatus.IN_TRANSIT,
        financial_status="paid",
        items=(LineItem("T-shirt imprimé colibri", 2),),
        shipments=(
            Shipment(
                "Colissimo", "6A18230004512", OrderStatus.IN_TRANSIT, COLISSIMO + "6A18230004512"
            ),
            Shipment(
                "Colis Privé",
                "CP99887766",
                OrderStatus.IN_TRANSIT,
                "https://www.colisprive.com/moncolis/pages/detailColis.aspx?numColis=CP99887766",
            ),
        ),
        total=Decimal("61.80"),
        currency="EUR",
        source_status="Expédié",
        customer_email="ana@example.com",
    ),
    "OHSATSERP": Order(
        number="OHSATSERP",
        created_at=at("2026-11-14 08:30:00"),
        status=OrderStatus.UNFULFILLED,
        financial_status="paid",
        items=(LineItem("Mug The best is yet to come", 1),),
        total=Decimal("35.90"),
        currency="EUR",
        source_status="Préparation en cours",
        customer_email="ana@example.com",
    ),
    "FFATNOMMJ": Order(
        number="FFATNOMMJ",
        created_at=at("2026-11-15 08:30:00"),
        status=OrderStatus.CANCELLED,
        financial_status="voided",
        items=(LineItem("Carnet de notes renard", 1),),
        total=Decimal("19.12"),
        currency="EUR",
        source_status="Annulé",
        customer_email="bob@example.com",
    ),
    "UOYEVOLIP": Order(
        number="UOYEVOLIP",
        created_at=at("2026-11-16 08:30:00"),
        status=OrderStatus.REFUNDED,
        financial_status="refunded",
        items=(LineItem("Coussin ours brun", 1),),
        shipments=(
            Shipment(
                "Colissimo", "6A18230004999", OrderStatus.IN_TRANSIT, COLISSIMO + "6A18230004999"
            ),
        ),
        total=Decimal("29.00"),
        currency="EUR",
        source_status="Remboursé",
        customer_email="bob@example.com",
    ),
    "KHWLILZLL": Order(
        number="KHWLILZLL",
        created_at=at("2026-11-17 08:30:00"),
        status=OrderStatus.DELIVERED,
        financial_status="paid",
        items=(LineItem("Pull à capuche écru", 1), LineItem("Écharpe 🧣", 1)),
        shipments=(
            Shipment(
                "Colis Privé",
                "CP00112233",
                OrderStatus.DELIVERED,
                "https://www.colisprive.com/moncolis/pages/detailColis.aspx?numColis=CP00112233",
            ),
        ),
        total=Decimal("120.00"),
        currency="EUR",
        source_status="Livré",
        customer_email="zoe@example.com",
    ),
    "ZZNOTRACK": Order(
        number="ZZNOTRACK",
        created_at=at("2026-11-18 08:30:00"),
        status=OrderStatus.IN_TRANSIT,
        financial_status="paid",
        items=(LineItem("Affiche encadrée", 1),),
        shipments=(Shipment("Retrait en magasin", "", OrderStatus.IN_TRANSIT, ""),),
        total=Decimal("12.00"),
        currency="EUR",
        source_status="Expédié",
        customer_email="ana@example.com",
    ),
    "HNSPLITUP": Order(
        number="HNSPLITUP",
        created_at=at("2026-11-19 08:30:00"),
        status=OrderStatus.IN_TRANSIT,  # a shop's own state, read from its flags
        financial_status="paid",
        items=(LineItem("Lampe", 1), LineItem("Ampoule", 2)),
        shipments=(
            Shipment(
                "Colissimo", "6A18230007777", OrderStatus.IN_TRANSIT, COLISSIMO + "6A18230007777"
            ),
        ),
        total=Decimal("80.00"),
        currency="EUR",
        source_status="Remis au transporteur",
        customer_email="hana@example.com",
    ),
}


@pytest.mark.parametrize("reference", sorted(EXPECTED))
def test_each_order_normalizes_field_by_field(prestashop, reference):
    assert connector(prestashop).order_by_number(number=reference, timeout=5) == EXPECTED[reference]


def test_customer_orders_newest_first_with_the_key_as_basic_user(prestashop):
    orders = connector(prestashop).orders_for_customer(email="Ana@Example.com", limit=3, timeout=5)

    assert orders == [EXPECTED["ZZNOTRACK"], EXPECTED["OHSATSERP"], EXPECTED["XKBKNABJK"]]
    first = prestashop.requests[0]
    assert first.path == "/api/customers"
    assert first.query["filter[email]"] == "[ana@example.com]"
    assert first.query["output_format"] == "JSON"
    assert base64.b64decode(first.headers["authorization"][6:]).decode() == f"{API_KEY}:"
    orders_request = prestashop.requests[1]
    assert orders_request.query["filter[id_customer]"] == "[1]"
    assert orders_request.query["sort"] == "[id_DESC]"


def test_states_carriers_and_currencies_are_read_once_per_connector(prestashop):
    client = connector(prestashop)
    client.orders_for_customer(email="ana@example.com", limit=3, timeout=5)
    client.order_by_number(number="XKBKNABJK", timeout=5)

    paths = [r.path for r in prestashop.requests]
    assert paths.count("/api/order_states/4") == 1
    assert paths.count("/api/carriers/2") == 1
    assert paths.count("/api/currencies/1") == 1
    assert paths.count("/api/order_carriers") == 2  # one per lookup, all orders at once


def test_unknown_customer_and_unknown_reference(prestashop):
    client = connector(prestashop)
    assert client.orders_for_customer(email="nobody@example.com", limit=3, timeout=5) == []
    assert client.order_by_number(number="NOPENOPE", timeout=5) is None


def test_order_by_numeric_id(prestashop):
    assert connector(prestashop).order_by_number(number="5", timeout=5) == EXPECTED["KHWLILZLL"]


def test_wrong_key_is_an_auth_error(prestashop):
    with pytest.raises(ConnectorAuthError):
        connector(prestashop, key="WRONG").orders_for_customer(
            email="ana@example.com", limit=3, timeout=5
        )
    assert len(prestashop.requests) == 1


def test_429_honours_retry_after_then_succeeds(prestashop):
    prestashop.retry_after = "0.05"
    prestashop.fail("429", times=1)

    orders = connector(prestashop).orders_for_customer(email="bob@example.com", limit=3, timeout=5)

    assert [o.number for o in orders] == ["UOYEVOLIP", "FFATNOMMJ"]


def test_retry_after_beyond_the_deadline_is_not_waited_for(prestashop):
    prestashop.retry_after = "30"
    prestashop.fail("429", times=None)

    with pytest.raises(ConnectorRateLimited) as error:
        connector(prestashop).orders_for_customer(email="bob@example.com", limit=3, timeout=1)
    assert error.value.code == "order_source_throttled"
    assert len(prestashop.requests) == 1


def test_500_everywhere_is_unavailable(prestashop):
    prestashop.fail("500", times=None)
    with pytest.raises(ConnectorUnavailable):
        connector(prestashop).orders_for_customer(email="bob@example.com", limit=3, timeout=5)


def test_timeout(prestashop):
    prestashop.fail("timeout", times=None)
    with pytest.raises(ConnectorTimeout):
        connector(prestashop, call_timeout=0.3).orders_for_customer(
            email="bob@example.com", limit=3, timeout=5
        )


def test_malformed_json(prestashop):
    prestashop.fail("malformed", times=None)
    with pytest.raises(ConnectorBadResponse):
        connector(prestashop).orders_for_customer(email="bob@example.com", limit=3, timeout=5)


def test_unreachable_server_is_unavailable(prestashop):
    prestashop.stop()
    with pytest.raises(ConnectorUnavailable) as error:
        connector(prestashop).check(timeout=2)
    assert error.value.code == "order_source_unavailable"
