"""A brand admin in a real browser: switch the order source to Shopify, test it, save; then
set up AfterShip for carrier tracking, test it, save."""

from __future__ import annotations

import pytest

from copilot.models import Role
from orders.models import CarrierSource, OrderSource
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import MembershipFactory, UserFactory
from tests.fakes.aftership import API_KEY
from tests.fakes.shopify import TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_tests_the_connection_with_htmx_then_saves(page, brand, shopify):
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.ADMIN)
    log_in(page, user)
    page.goto(f"/b/{brand.slug}/settings/orders/")
    form = page.locator("#order-source-form")  # the carrier's form is on the page too

    form.get_by_label("Kind").select_option("shopify")
    form.get_by_label("Shop URL").fill(shopify.shop_url)
    form.get_by_label("Access token / webservice key").fill("shpat_wrong")
    form.get_by_role("button", name="Test connection").click()
    page.get_by_text("Authentication failed.").wait_for()
    assert page.url.endswith("/settings/orders/")  # swapped in place, no navigation

    form.get_by_label("Access token / webservice key").fill(TOKEN)
    form.get_by_role("button", name="Test connection").click()
    page.get_by_text("OK: the order system answered.").wait_for()
    page.screenshot(path=artifacts_dir() / "order-source-settings.png", full_page=True)
    form.get_by_role("button", name="Save").click()
    page.get_by_text("Order source saved.").wait_for()

    source = OrderSource.objects.get(brand=brand)
    assert source.kind == "shopify" and source.credentials == {"access_token": TOKEN}
    assert TOKEN not in page.content()


def test_admin_sets_up_aftership_tests_it_with_htmx_then_saves(page, brand, aftership):
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.ADMIN)
    log_in(page, user)
    page.goto(f"/b/{brand.slug}/settings/orders/")
    form = page.locator("#carrier-source-form")

    form.get_by_label("Tracking service").select_option("aftership")
    form.get_by_label("API key").fill("asat_wrong")
    form.get_by_label("API address").fill(aftership.url)
    form.get_by_role("button", name="Test connection").click()
    form.get_by_text("Authentication failed.").wait_for()
    assert page.url.endswith("/settings/orders/")

    form.get_by_label("API key").fill(API_KEY)
    form.get_by_role("button", name="Test connection").click()
    form.get_by_text("OK: the tracking service answered.").wait_for()
    form.get_by_role("button", name="Save carrier tracking").click()
    page.get_by_text("Carrier tracking saved.").wait_for()

    carrier = CarrierSource.objects.get(brand=brand)
    assert carrier.kind == "aftership" and carrier.credentials == {"api_key": API_KEY}
    assert API_KEY not in page.content() and "an API key is stored" in page.content()
