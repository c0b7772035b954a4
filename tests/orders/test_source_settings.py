"""The order-source settings page: brand admins only, write-only credentials, and an htmx
"Test connection" that answers ok / authentication failed / unreachable / throttled."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copilot.models import Role
from orders.connectors import connector_for
from orders.models import OrderSource
from tests.factories import BrandFactory, OrderSourceFactory
from tests.fakes.prestashop import API_KEY
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db


def form_data(kind: str, url: str, secret: str = "", **extra) -> dict:
    return {
        "kind": kind,
        "shop_url": url,
        "secret": secret,
        "timeout_seconds": extra.get("timeout_seconds", 2),
        "allowed_fields": extra.get("allowed_fields", ["number", "status"]),
        "no_movement_days": extra.get("no_movement_days", 5),
    }


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD])
def test_only_brand_admins_see_the_page(brand, member, role):
    client, _ = member(brand, role)
    url = reverse("order_source_settings", args=[brand.slug])

    assert client.get(url).status_code == 404
    assert client.post(url, form_data("demo", "")).status_code == 404
    test_url = reverse("order_source_test", args=[brand.slug])
    assert client.post(test_url, form_data("demo", "")).status_code == 404
    assert not OrderSource.objects.exists()


def test_an_admin_of_another_brand_gets_404(brand, member):
    client, _ = member(BrandFactory(), Role.ADMIN)

    assert client.get(reverse("order_source_settings", args=[brand.slug])).status_code == 404


def test_admin_saves_a_source_and_the_credential_is_never_shown_again(brand, member, shopify):
    client, _ = member(brand, Role.ADMIN)
    url = reverse("order_source_settings", args=[brand.slug])

    response = client.post(url, form_data("shopify", shopify.shop_url, TOKEN))
    assert response.status_code == 302
    source = OrderSource.objects.get(brand=brand)
    assert source.kind == "shopify" and source.credentials == {"access_token": TOKEN}
    assert source.allowed_fields == ["number", "status"]

    page = client.get(url).content.decode()
    assert "Parcels, carriers and tracking" in page and "Status in words" in page  # not keys
    assert TOKEN not in page
    assert "a credential is stored" in page

    # A blank credential keeps the stored one.
    client.post(url, form_data("shopify", shopify.shop_url, "", timeout_seconds=3))
    source.refresh_from_db()
    assert source.credentials == {"access_token": TOKEN} and source.timeout_seconds == 3


def test_admin_sets_when_a_parcel_counts_as_stalled(brand, member):
    client, _ = member(brand, Role.ADMIN)
    url = reverse("order_source_settings", args=[brand.slug])

    assert "Stalled after (days without a carrier scan)" in client.get(url).content.decode()
    assert client.post(url, form_data("demo", "", no_movement_days=9)).status_code == 302

    assert OrderSource.objects.get(brand=brand).no_movement_days == 9


def test_switching_kind_needs_the_new_systems_credential(brand, member, shopify):
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    client, _ = member(brand, Role.ADMIN)

    response = client.post(
        reverse("order_source_settings", args=[brand.slug]),
        form_data("prestashop", "https://shop.example"),
    )

    assert response.status_code == 400
    assert "Enter the credential for this order system." in response.content.decode()
    assert TOKEN not in response.content.decode()
    assert OrderSource.objects.get(brand=brand).kind == "shopify"


def _test_connection(client, brand, data) -> str:
    response = client.post(
        reverse("order_source_test", args=[brand.slug]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div id="connection-result"')  # the partial only
    return html


def test_test_connection_answers_ok(brand, member, shopify):
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, form_data("shopify", shopify.shop_url, TOKEN))

    assert "check-ok" in html and "OK" in html
    assert not OrderSource.objects.exists()  # testing stores nothing


def test_test_connection_uses_the_stored_credential_when_left_blank(brand, member, prestashop):
    OrderSourceFactory(
        brand=brand,
        kind="prestashop",
        shop_url=prestashop.shop_url,
        credentials={"api_key": API_KEY},
    )
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, form_data("prestashop", prestashop.shop_url))

    assert "check-ok" in html
    assert prestashop.requests[0].path == "/api/"


def test_test_connection_answers_authentication_failed(brand, member, shopify):
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, form_data("shopify", shopify.shop_url, "shpat_wrong"))

    assert "Authentication failed." in html and "order_source_auth_failed" in html
    assert "shpat_wrong" not in html


def test_test_connection_answers_unreachable(brand, member, shopify):
    url = shopify.shop_url
    shopify.stop()
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, form_data("shopify", url, TOKEN))

    assert "Unreachable." in html


def test_test_connection_answers_throttled(brand, member, shopify):
    shopify.restore_rate = 1.0
    shopify.fail("throttled", times=None)
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, form_data("shopify", shopify.shop_url, TOKEN))

    assert "throttling" in html and "order_source_throttled" in html


def test_test_connection_without_htmx_renders_the_whole_page(brand, member, shopify):
    client, _ = member(brand, Role.ADMIN)

    response = client.post(
        reverse("order_source_test", args=[brand.slug]),
        form_data("shopify", shopify.shop_url, TOKEN),
    )

    html = response.content.decode()
    assert "<html" in html and "check-ok" in html and TOKEN not in html


def test_test_connection_bypasses_an_open_circuit(brand, member, shopify, settings):
    """An admin checking a fix must reach the real system, whatever the breaker says."""
    settings.ORDERS_CIRCUIT_FAILURES = 1
    source = OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    shopify.fail("500", times=None)
    with pytest.raises(Exception, match="failed"):
        connector_for(source).check(timeout=1)
    shopify.heal()
    client, _ = member(brand, Role.ADMIN)

    html = _test_connection(client, brand, form_data("shopify", shopify.shop_url))

    assert "check-ok" in html
