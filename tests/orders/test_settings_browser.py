"""A brand admin in a real browser: switch the order source to Shopify, test it, save."""

from __future__ import annotations

import pytest

from copilot.models import Role
from orders.models import OrderSource
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import MembershipFactory, UserFactory
from tests.fakes.shopify import TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_tests_the_connection_with_htmx_then_saves(page, brand, shopify):
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.ADMIN)
    log_in(page, user)
    page.goto(f"/b/{brand.slug}/settings/orders/")

    page.get_by_label("Kind").select_option("shopify")
    page.get_by_label("Shop URL").fill(shopify.shop_url)
    page.get_by_label("Access token / webservice key").fill("shpat_wrong")
    page.get_by_role("button", name="Test connection").click()
    page.get_by_text("Authentication failed.").wait_for()
    assert page.url.endswith("/settings/orders/")  # swapped in place, no navigation

    page.get_by_label("Access token / webservice key").fill(TOKEN)
    page.get_by_role("button", name="Test connection").click()
    page.get_by_text("OK: the order system answered.").wait_for()
    page.screenshot(path=artifacts_dir() / "order-source-settings.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Order source saved.").wait_for()

    source = OrderSource.objects.get(brand=brand)
    assert source.kind == "shopify" and source.credentials == {"access_token": TOKEN}
    assert TOKEN not in page.content()
