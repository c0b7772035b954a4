"""Done-point 5: an admin moves a brand from off to 10 percent to on and back to off in a
real browser; the page shows each change in its history."""

from __future__ import annotations

import pytest

from copilot.models import Role
from rollout.models import BrandRollout, RolloutChange
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_moves_a_brand_off_to_10_percent_to_on_and_back(page, brand):
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.ADMIN)
    log_in(page, user)
    page.get_by_role("link", name="Rollout").click()

    card = page.locator("#card-fetch_orders")
    assert card.locator(".stage").inner_text() == "off"
    history = card.get_by_role("table", name=f"History of fetch_orders on {brand.name}")

    steps = [
        ("Percent of customers", "10", "first 10% of customers", "percent 10%"),
        ("On", None, "metrics look fine", "on"),
        ("Off", None, "back off for the weekend", "off"),
    ]
    for n, (label, percent, reason, shown) in enumerate(steps, start=1):
        card.get_by_label(label, exact=True).check()
        if percent:
            card.get_by_label("Percent of customers treated").fill(percent)
        card.get_by_label("Reason for the change").fill(reason)
        card.get_by_role("button", name="Apply stage").click()
        # htmx swaps the card in place: wait for the new history row.
        history.get_by_role("row").nth(n).wait_for()
        assert card.locator(".stage").inner_text() == shown
        assert history.get_by_role("row").nth(1).get_by_text(reason).is_visible()

    rows = [r.inner_text() for r in history.get_by_role("row").all()[1:]]
    page.screenshot(path=artifacts_dir() / "rollout-page.png", full_page=True)

    assert len(rows) == 3
    assert "on\toff\tback off for the weekend" in rows[0]
    assert "percent 10%\ton\tmetrics look fine" in rows[1]
    assert "off\tpercent 10%\tfirst 10% of customers" in rows[2]
    assert all(user.username in row for row in rows)
    assert BrandRollout.objects.get(brand=brand).stage == "off"
    assert list(RolloutChange.objects.order_by("id").values_list("to_value", flat=True)) == [
        "percent 10%",
        "on",
        "off",
    ]
