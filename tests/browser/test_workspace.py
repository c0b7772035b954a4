"""The agent workspace in a real browser: the whole flow by keyboard alone, live progress
without a reload, the conflict of two agents saving the same draft, the pages without
JavaScript, and screenshots of the inbox, the workspace and the trace panel."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import Trace
from copilot.models import Draft, Message, Role
from copilot.services import draft_generate, draft_request
from orders.connectors.demo import DemoConnector
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import (
    PASSWORD,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    DraftFactory,
    MembershipFactory,
    TicketFactory,
    UserFactory,
)
from tests.traces import grounding_span, record_trace, span, tool_span

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLY = (
    "Hello Ana,\n\nYour order NW-2001 is on its way with DHL: tracking number JD0042. "
    "It should arrive on Friday.\n\nThe Northwind team"
)


def agent_of(brand, role: str = Role.AGENT):
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=role)
    return user


def ready_ticket(brand, subject: str, body: str = REPLY, **trace_fields) -> Draft:
    """A ticket whose draft is ready, with a realistic trace: plan, fetch_orders, reply,
    and a grounding check that flags one date as unverified."""
    ticket = TicketFactory(
        brand=brand,
        subject=subject,
        customer__name="Ana Lima",
        body="Hi, where is my order NW-2001? It has not arrived yet.",
    )
    draft = DraftFactory(ticket=ticket, body=body)
    start = body.find("on Friday")
    record_trace(
        draft,
        [
            span("llm", "chat", result={"text": "", "tool_calls": [{"name": "fetch_orders"}]}),
            tool_span(
                duration_ms=184,
                arguments={"order_number": "NW-2001"},
                result={
                    "source": "Shopify",
                    "orders": [
                        {
                            "number": "NW-2001",
                            "status": "in_transit",
                            "shipments": [{"carrier": "DHL", "tracking_number": "JD0042"}],
                        }
                    ],
                },
            ),
            span("llm", "chat", duration_ms=35, result={"text": body, "tool_calls": []}),
            span(
                "guardrail",
                "repeated_call",
                status="blocked",
                error={"code": "repeated_call", "message": "fetch_orders twice"},
            ),
            grounding_span(
                "unverified" if start >= 0 else "grounded",
                [{"start": start, "end": start + 9, "text": "on Friday", "kind": "date"}]
                if start >= 0
                else [],
            ),
        ],
        grounding="unverified" if start >= 0 else "grounded",
        **trace_fields,
    )
    return draft


def test_the_whole_agent_flow_by_keyboard_alone(page, brand):
    oldest = ready_ticket(brand, "Parcel for the cabin")
    middle = ready_ticket(brand, "Gift wrapping question")
    newest = ready_ticket(brand, "Where is my order?")
    user = agent_of(brand)

    # Log in without the mouse: the username field has focus when the page opens.
    page.goto("/login/")
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/b/{brand.slug}/")
    assert page.locator("#key-hint").is_visible()

    # j selects the first (newest) ticket, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{newest.ticket_id}/")
    assert "a accept" in page.locator("#key-hint").inner_text().replace("\n", " ")

    # e edits; Ctrl+Enter saves the edit.
    page.keyboard.press("e")
    page.keyboard.press("Control+End")
    page.keyboard.type(" Have a lovely day!")
    page.keyboard.press("Control+Enter")
    page.get_by_text("Edited and accepted").wait_for()

    # j goes to the next ticket down the inbox; a accepts it as is.
    page.keyboard.press("j")
    page.wait_for_url(f"**/tickets/{middle.ticket_id}/")
    page.keyboard.press("a")
    page.get_by_text("Accepted as is").wait_for()

    # j again; r jumps to the reason, Enter rejects.
    page.keyboard.press("j")
    page.wait_for_url(f"**/tickets/{oldest.ticket_id}/")
    page.keyboard.press("r")
    page.keyboard.type("Customer already called us")
    page.keyboard.press("Enter")
    page.locator("#draft-panel").get_by_text("Rejected", exact=True).wait_for()

    # k goes back up the inbox.
    page.keyboard.press("k")
    page.wait_for_url(f"**/tickets/{middle.ticket_id}/")

    newest.refresh_from_db()
    middle.refresh_from_db()
    oldest.refresh_from_db()
    assert newest.decision == Draft.Decision.EDITED
    assert newest.final_text.endswith("The Northwind team Have a lovely day!")
    assert middle.decision == Draft.Decision.ACCEPTED and middle.final_text == REPLY
    assert oldest.decision == Draft.Decision.REJECTED
    assert oldest.reject_reason == "Customer already called us"
    assert {d.decided_by_id for d in (newest, middle, oldest)} == {user.pk}


def test_progress_appears_step_by_step_without_a_reload(
    page, brand, enable_fetch_orders, monkeypatch
):
    enable_fetch_orders(brand)
    order = DemoOrderFactory(brand=brand, number="NW-3003", customer__email="lea@example.com")
    DemoTrackingEventFactory(shipment=DemoShipmentFactory(order=order, tracking_number="GLS555"))
    ticket = TicketFactory(
        brand=brand,
        customer=order.customer,
        subject="Slow lookup",
        body="Hi, where is my order NW-3003? It has not arrived.",
    )
    draft = draft_request(ticket=ticket, enqueue=False)
    original = DemoConnector._orders
    release = threading.Event()

    def slow_orders(self):
        release.wait(timeout=8)  # an order system taking its time, until the test has looked
        return original(self)

    monkeypatch.setattr(DemoConnector, "_orders", slow_orders)
    log_in(page, agent_of(brand))
    page.goto(f"/tickets/{ticket.pk}/")
    page.get_by_text("The copilot is writing a draft").wait_for()
    page.evaluate("window.__sameDocument = true")

    def generate() -> None:
        try:
            draft_generate(draft_id=draft.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=generate)
    worker.start()
    try:
        panel = page.locator("#draft-panel")
        panel.get_by_text("Planned: call fetch_orders").wait_for()
        assert panel.get_by_text("calling fetch_orders").is_visible()
        # The step showed up while the run was still going: no trace stored yet.
        assert not Trace.objects.filter(draft_id=draft.pk).exists()
        page.screenshot(path=artifacts_dir() / "workspace-progress.png", full_page=True)
        release.set()
        page.get_by_label("Draft text").wait_for()
    finally:
        release.set()
        worker.join(timeout=30)

    assert "GLS555" in page.get_by_label("Draft text").input_value()
    assert page.locator("#trace-panel").get_by_text("fetch_orders").first.is_visible()
    assert page.evaluate("window.__sameDocument") is True  # the same page, never reloaded


def test_two_agents_saving_the_same_draft_see_a_conflict_and_lose_nothing(page, brand, live_server):
    draft = ready_ticket(brand, "Two agents, one draft")
    first, second = agent_of(brand), agent_of(brand)
    other_context = page.context.browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}
    )
    other = other_context.new_page()
    other.set_default_timeout(10_000)
    try:
        log_in(page, first)
        log_in(other, second)
        page.goto(f"/tickets/{draft.ticket_id}/")
        other.goto(f"/tickets/{draft.ticket_id}/")

        page.get_by_label("Draft text").fill("Theirs: the first agent's reply.")
        page.get_by_role("button", name="Save edit and accept").click()
        page.get_by_text("Edited and accepted").wait_for()

        other.get_by_label("Draft text").fill("Mine: the second agent's careful reply.")
        other.get_by_role("button", name="Save edit and accept").click()
        conflict = other.locator(".conflict")
        conflict.get_by_text("Someone saved this draft first").wait_for()

        assert conflict.locator("#theirs-text").inner_text() == "Theirs: the first agent's reply."
        mine = other.get_by_label("Your text")
        assert mine.input_value() == "Mine: the second agent's careful reply."
        mine.press("Control+End")
        mine.type(" Still editable.")
        assert mine.input_value().endswith("Still editable.")
        other.screenshot(path=artifacts_dir() / "workspace-conflict.png", full_page=True)
    finally:
        other_context.close()

    draft.refresh_from_db()
    assert draft.final_text == "Theirs: the first agent's reply."
    assert draft.decided_by == first
    assert Message.objects.filter(ticket_id=draft.ticket_id, author="agent").count() == 1


def test_accept_and_reject_work_without_javascript(page, brand, live_server):
    accepted, rejected = ready_ticket(brand, "No JS accept"), ready_ticket(brand, "No JS reject")
    user = agent_of(brand)
    context = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=False)
    plain = context.new_page()
    plain.set_default_timeout(10_000)
    try:
        log_in(plain, user)
        plain.goto(f"/tickets/{accepted.ticket_id}/")
        plain.get_by_role("button", name="Accept", exact=True).click()
        plain.get_by_text("Accepted as is").wait_for()
        plain.goto(f"/tickets/{rejected.ticket_id}/")
        plain.get_by_label("Reason for rejecting").fill("Not our customer")
        plain.get_by_role("button", name="Reject").click()
        plain.locator("#draft-panel").get_by_text("Reason: Not our customer").wait_for()
    finally:
        context.close()

    accepted.refresh_from_db()
    rejected.refresh_from_db()
    assert accepted.decision == Draft.Decision.ACCEPTED
    assert rejected.decision == Draft.Decision.REJECTED


def test_inbox_shows_new_tickets_and_finished_drafts_without_a_reload(page, brand):
    writing = DraftFactory(
        ticket=TicketFactory(brand=brand, subject="Being written"), status=Draft.Status.GENERATING
    )
    log_in(page, agent_of(brand))
    page.evaluate("window.__sameDocument = true")
    rows = page.locator("#inbox-rows")
    assert rows.get_attribute("hx-trigger") == "every 2s"

    DraftFactory(ticket=TicketFactory(brand=brand, subject="Arrived just now"))
    Draft.objects.filter(pk=writing.pk).update(status=Draft.Status.READY)

    page.get_by_role("link", name="Arrived just now").wait_for()
    assert page.locator(".counts").get_by_text("Ready to review 2").is_visible()
    assert page.evaluate("window.__sameDocument") is True


def test_screenshots_of_the_inbox_the_workspace_and_the_trace_panel(page, brand):
    for subject in ("Return label missing", "Can I change my address?", "Damaged sweater"):
        ready_ticket(brand, subject)
    DraftFactory(
        ticket=TicketFactory(brand=brand, subject="Just arrived"), status=Draft.Status.PENDING
    )
    sensitive = ready_ticket(brand, "Refund threat", sensitive=True)
    draft = ready_ticket(brand, "Where is my order NW-2001?")
    log_in(page, agent_of(brand))

    page.goto(f"/b/{brand.slug}/")
    page.get_by_role("link", name="Refund threat").wait_for()
    assert page.locator(".counts").get_by_text("Needs review").is_visible()
    page.screenshot(path=artifacts_dir() / "inbox.png", full_page=True)

    page.goto(f"/tickets/{draft.ticket_id}/")
    panel = page.locator("#trace-panel")
    assert "Repeated call refused" in panel.inner_text()
    assert "Order data from Shopify, read at 10:42" in panel.inner_text()
    assert page.locator("#draft-preview mark").inner_text() == "on Friday"
    page.screenshot(path=artifacts_dir() / "workspace.png", full_page=True)
    panel.screenshot(path=artifacts_dir() / "trace-panel.png")

    page.goto(f"/traces/{sensitive.trace.pk}/")
    page.locator("#trace-panel").screenshot(path=artifacts_dir() / "trace-page.png")
