"""An agent in a real browser: log in, open a ticket, read the draft and trace, edit, save."""

from __future__ import annotations

import pytest

from copilot.models import Draft, Role
from copilot.services import ticket_ingest
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import (
    DemoOrderFactory,
    DemoShipmentFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_logs_in_reads_the_trace_and_saves_an_edit(page, brand, enable_fetch_orders):
    enable_fetch_orders(brand)
    order = DemoOrderFactory(brand=brand, number="BR-3003", customer__email="lea@example.com")
    DemoShipmentFactory(order=order, carrier="GLS", tracking_number="GLS555")
    result = ticket_ingest(
        brand=brand,
        external_id="br-1",
        subject="Where is my parcel?",
        body="Hi, where is my order BR-3003?",
        customer_external_id="lea",
        customer_email="lea@example.com",
        customer_email_verified=True,
    )
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.AGENT)

    log_in(page, user)
    page.get_by_role("link", name="Where is my parcel?").click()

    panel = page.locator("#trace-panel")
    panel.get_by_text("fetch_orders").first.wait_for()
    assert "GLS555" in panel.inner_text()
    editor = page.get_by_label("Draft text")
    assert "GLS555" in editor.input_value()
    editor.fill(editor.input_value() + "\nHave a lovely day!")
    page.get_by_role("button", name="Save edit").click()
    page.get_by_text("Edited and accepted").wait_for()
    page.screenshot(path=artifacts_dir() / "agent-flow.png", full_page=True)

    draft = Draft.objects.get(pk=result.draft.pk)
    assert draft.decision == Draft.Decision.EDITED
    assert draft.final_text.endswith("Have a lovely day!")
