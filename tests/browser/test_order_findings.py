"""An agent in a real browser reads a draft whose order data contradicts itself: the draft
panel says to check before sending, the trace panel names the problem and its evidence in
plain words, and no code shows outside the raw data. Saves artifacts/trace-findings.png (the
screenshot in docs/ is a copy of it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from copilot.models import Role
from copilot.services import ticket_ingest
from orders import quality
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import (
    BrandFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_trace_panel_shows_the_order_data_problems_in_words(page, enable_fetch_orders):
    brand = BrandFactory(name="Northwind Outfitters", signature="The Northwind Outfitters team")
    enable_fetch_orders(brand)
    now = timezone.now()
    order = DemoOrderFactory(
        brand=brand,
        number="NW-1047",
        customer__name="Inès Moreau",
        customer__email="ines@example.com",
        status="delivered",
        items=[{"title": "Merino base layer", "quantity": 1}],
        total="79.00",
        estimated_delivery=(now - dt.timedelta(days=1)).date(),
        created_at=now - dt.timedelta(days=4),
    )
    parcel = DemoShipmentFactory(
        order=order,
        carrier="Colissimo",
        tracking_number="6A00000747777",
        status="delivered",
        carrier_status="delivery_exception",
    )
    for days, description in (
        (3.0, "Picked up"),
        (1.2, "Out for delivery"),
        (1.0, "Delivery attempted: recipient absent, held at the post office"),
    ):
        DemoTrackingEventFactory(
            shipment=parcel, time=now - dt.timedelta(days=days), description=description
        )
    ticket_ingest(
        brand=brand,
        external_id="ines-1",
        subject="Says delivered, nothing here",
        body="Hello, your website says order NW-1047 was delivered yesterday, but I have "
        "nothing. Where is it?",
        customer_external_id="ines",
        customer_email="ines@example.com",
        customer_email_verified=True,
        customer_name="Inès Moreau",
    )
    agent = UserFactory()
    MembershipFactory(user=agent, brand=brand, role=Role.AGENT)

    log_in(page, agent)
    page.get_by_role("link", name="Says delivered, nothing here").click()

    findings = page.locator("#trace-panel section.findings")
    findings.wait_for()
    shown = findings.inner_text()
    assert "The shop and the carrier disagree on the parcel's status" in shown
    assert "Serious" in shown
    assert "Demo store: status delivered" in shown
    assert "Demo carrier feed: status held up by a delivery problem" in shown
    note = page.locator(".findings-note").inner_text()
    assert "Check before sending" in note and "Order NW-1047" in note
    draft = page.get_by_label("Draft text").input_value()
    assert "do not agree on where your parcel is" in draft and "was delivered" not in draft
    # No code or data key shows on screen; the raw data (closed) still holds them.
    visible = page.locator("#draft-panel").inner_text()
    for code in quality.FINDING_CODES:
        assert code not in visible, code
    assert "findings" not in visible
    raw = page.locator("#trace-panel li.span-tool details")
    raw.locator("summary").click()
    assert "status_conflict" in raw.inner_text()
    raw.locator("summary").click()

    # The page down to the end of the findings: the customer's message, the draft, its note
    # and the trace panel's lookup step.
    bottom = findings.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    page.screenshot(
        path=str(artifacts_dir() / "trace-findings.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1400, "height": bottom + 6},
    )
