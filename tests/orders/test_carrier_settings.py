"""Carrier tracking on the order-source page: brand admins only, a write-only API key, the
demo feed only beside the demo store, and a "Test connection" in plain words."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from copilot.models import Role
from orders.carriers import carrier_for
from orders.models import CarrierSource
from tests.factories import BrandFactory, OrderSourceFactory
from tests.fakes.aftership import API_KEY
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db


def carrier_data(kind: str, secret: str = "", url: str = "", **extra) -> dict:
    return {
        "carrier-kind": kind,
        "carrier-secret": secret,
        "carrier-api_url": url,
        "carrier-timeout_seconds": extra.get("timeout_seconds", 2),
    }


def save(client, brand, data):
    return client.post(reverse("order_carrier_settings", args=[brand.slug]), data)


def test_the_page_shows_the_carrier_section_with_the_default_for_the_demo_store(brand, member):
    client, _ = member(brand, Role.ADMIN)

    page = client.get(reverse("order_source_settings", args=[brand.slug])).content.decode()

    assert "Carrier tracking" in page
    assert 'id="carrier-source-form"' in page
    assert '<option value="demo" selected>' in page  # the demo store's default
    assert 'id="connection-result"' in page and 'id="carrier-result"' in page


def test_a_shop_brand_defaults_to_no_carrier_lookups(brand, member, shopify):
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    client, _ = member(brand, Role.ADMIN)

    page = client.get(reverse("order_source_settings", args=[brand.slug])).content.decode()

    assert '<option value="none" selected>' in page


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD])
def test_only_brand_admins_may_change_or_test_carrier_tracking(brand, member, role):
    client, _ = member(brand, role)
    data = carrier_data("aftership", API_KEY, "https://api.example")

    assert save(client, brand, data).status_code == 404
    test_url = reverse("order_carrier_test", args=[brand.slug])
    assert client.post(test_url, data).status_code == 404
    assert not CarrierSource.objects.exists()


def test_an_admin_of_another_brand_gets_404(brand, member):
    client, _ = member(BrandFactory(), Role.ADMIN)

    assert save(client, brand, carrier_data("none")).status_code == 404


def test_admin_saves_aftership_and_the_key_is_never_shown_again(brand, member, aftership):
    client, _ = member(brand, Role.ADMIN)

    response = save(client, brand, carrier_data("aftership", API_KEY, aftership.url))

    assert response.status_code == 302
    carrier = CarrierSource.objects.get(brand=brand)
    assert carrier.kind == "aftership" and carrier.credentials == {"api_key": API_KEY}
    assert carrier.api_url == aftership.url and carrier.timeout_seconds == 2
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT credentials FROM orders_carriersource")
        assert API_KEY not in cursor.fetchone()[0]
    page = client.get(reverse("order_source_settings", args=[brand.slug])).content.decode()
    assert API_KEY not in page and "an API key is stored" in page

    # A blank key keeps the stored one.
    save(client, brand, carrier_data("aftership", "", aftership.url, timeout_seconds=4))
    carrier.refresh_from_db()
    assert carrier.credentials == {"api_key": API_KEY} and carrier.timeout_seconds == 4


def test_aftership_needs_a_key(brand, member):
    client, _ = member(brand, Role.ADMIN)

    response = save(client, brand, carrier_data("aftership"))

    assert response.status_code == 400
    assert "Enter the API key for this tracking service." in response.content.decode()
    assert not CarrierSource.objects.exists()


def test_the_demo_feed_is_refused_beside_another_order_system(brand, member, shopify):
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    client, _ = member(brand, Role.ADMIN)

    response = save(client, brand, carrier_data("demo"))

    assert response.status_code == 400
    assert "only knows the demo store" in response.content.decode()
    assert TOKEN not in response.content.decode()
    assert not CarrierSource.objects.exists()


def test_a_bad_timeout_is_a_clear_error_and_nothing_is_lost(brand, member, aftership):
    CarrierSource.objects.create(
        brand=brand, kind="aftership", api_url=aftership.url, credentials={"api_key": API_KEY}
    )
    client, _ = member(brand, Role.ADMIN)

    response = save(client, brand, carrier_data("aftership", "", timeout_seconds=999))

    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 30" in response.content.decode()
    assert CarrierSource.objects.get(brand=brand).credentials == {"api_key": API_KEY}


def _test_connection(client, brand, data) -> str:
    response = client.post(
        reverse("order_carrier_test", args=[brand.slug]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div id="carrier-result"')  # the partial only
    return html


def test_test_connection_answers_ok_and_stores_nothing(brand, member, aftership):
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership", API_KEY, aftership.url))

    assert "check-ok" in html and "OK: the tracking service answered." in html
    assert not CarrierSource.objects.exists()
    assert aftership.requests[0].path.endswith("/couriers")


def test_test_connection_uses_the_stored_key_when_left_blank(brand, member, aftership):
    CarrierSource.objects.create(
        brand=brand, kind="aftership", api_url=aftership.url, credentials={"api_key": API_KEY}
    )
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership", "", aftership.url))

    assert "check-ok" in html
    assert aftership.requests[0].headers["as-api-key"] == API_KEY


def test_test_connection_answers_authentication_failed(brand, member, aftership):
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership", "asat_wrong", aftership.url))

    assert "Authentication failed." in html and "carrier_auth_failed" in html
    assert "asat_wrong" not in html


def test_test_connection_answers_unreachable(brand, member, aftership):
    url = aftership.url
    aftership.stop()
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership", API_KEY, url))

    assert "Unreachable." in html and "carrier_unavailable" in html


def test_test_connection_answers_throttled(brand, member, aftership):
    aftership.retry_after = "30"
    aftership.fail("429", times=None)
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership", API_KEY, aftership.url))

    assert "throttling" in html and "carrier_throttled" in html


def test_test_connection_of_the_demo_feed_and_of_none(brand, member):
    client, _ = member(brand, Role.ADMIN)

    assert "check-ok" in _test_connection(client, brand, carrier_data("demo"))
    assert "no carrier lookups are configured" in _test_connection(
        client, brand, carrier_data("none")
    )


def test_test_connection_with_a_bad_form_says_fix_it(brand, member):
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership"))  # no key

    assert "Fix the form first." in html


def test_test_connection_without_htmx_renders_the_whole_page(brand, member, aftership):
    client, _ = member(brand, Role.ADMIN)

    response = client.post(
        reverse("order_carrier_test", args=[brand.slug]),
        carrier_data("aftership", API_KEY, aftership.url),
    )

    html = response.content.decode()
    assert "<html" in html and "check-ok" in html and API_KEY not in html
    assert 'id="order-source-form"' in html  # the order source's form is on it too


def test_test_connection_bypasses_an_open_circuit(brand, member, aftership, settings):
    settings.ORDERS_CIRCUIT_FAILURES = 1
    carrier = CarrierSource.objects.create(
        brand=brand, kind="aftership", api_url=aftership.url, credentials={"api_key": API_KEY}
    )
    aftership.fail("500", times=None)
    with pytest.raises(Exception, match="failed"):
        carrier_for(carrier).check(timeout=1)
    aftership.heal()
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, carrier_data("aftership", "", aftership.url))

    assert "check-ok" in html


def test_saving_the_order_source_keeps_the_carrier_form_apart(brand, member, shopify):
    """Both forms share field names; the carrier's prefix keeps a post of one from the other."""
    client, _ = member(brand, Role.ADMIN)

    response = client.post(
        reverse("order_source_settings", args=[brand.slug]),
        {
            "kind": "shopify",
            "shop_url": shopify.shop_url,
            "secret": TOKEN,
            "timeout_seconds": 2,
            "allowed_fields": ["number", "status"],
        },
    )

    assert response.status_code == 302
    assert not CarrierSource.objects.exists()
