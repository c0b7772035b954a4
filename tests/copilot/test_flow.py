"""The walking skeleton end to end on the embedded default: intake, draft, trace, decision."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import Span, Trace
from copilot.models import Draft, Message, Role, Ticket
from tests.factories import DemoOrderFactory, DemoShipmentFactory, DemoTrackingEventFactory

pytestmark = pytest.mark.django_db(transaction=True)


def post_ticket(client, token: str, **payload):
    return client.post(
        reverse("api_ticket_create"),
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.fixture
def wismo(brand, enable_fetch_orders):
    enable_fetch_orders(brand)
    order = DemoOrderFactory(brand=brand, number="NW-2001", customer__email="ana@example.com")
    shipment = DemoShipmentFactory(order=order, carrier="DHL", tracking_number="JD0042")
    DemoTrackingEventFactory(shipment=shipment, description="Departed hub Leipzig")
    return order


def test_where_is_my_order_ticket_gets_a_grounded_draft_with_its_trace(client, brand, wismo):
    token = brand.rotate_api_token()

    response = post_ticket(
        client,
        token,
        external_id="zd-1",
        subject="Where is my order?",
        body="Hello, where is my order? It has not arrived.",
        customer={"external_id": "c-1", "email": "ana@example.com", "email_verified": True},
    )

    assert response.status_code == 202, response.content
    draft = Draft.objects.get(pk=response.json()["draft_id"])
    assert draft.status == Draft.Status.READY
    assert "JD0042" in draft.body and "DHL" in draft.body
    trace = Trace.objects.get(draft=draft)
    assert trace.outcome == Trace.Outcome.ANSWERED
    assert trace.tools_used == ["fetch_orders"]
    assert trace.plan["available_tools"] == ["fetch_orders"]
    tool_span = trace.spans.get(kind=Span.Kind.TOOL)
    assert tool_span.name == "fetch_orders" and tool_span.status == Span.Status.OK
    assert tool_span.result["orders"][0]["number"] == "NW-2001"
    assert tool_span.result["orders"][0]["shipments"][0]["tracking_number"] == "JD0042"
    assert [s.kind for s in trace.spans.order_by("seq")] == ["llm", "tool", "llm", "guardrail"]
    assert trace.grounding == "grounded"


def test_workspace_shows_draft_and_trace_panel_and_agent_accepts(client, brand, wismo, member):
    token = brand.rotate_api_token()
    ids = post_ticket(
        client,
        token,
        external_id="zd-2",
        body="Where is my order NW-2001?",
        customer={"external_id": "c-1", "email": "ana@example.com", "email_verified": True},
    ).json()
    agent, user = member(brand, Role.AGENT)

    page = agent.get(reverse("ticket", args=[ids["ticket_id"]]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "fetch_orders" in html and "JD0042" in html and "in_transit" in html
    draft = Draft.objects.get(pk=ids["draft_id"])
    response = agent.post(
        reverse("draft_decide", args=[draft.pk, "accept"]), {"version": draft.version}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.decision == Draft.Decision.ACCEPTED
    assert draft.decided_by == user and draft.final_text == draft.body
    assert Message.objects.filter(ticket_id=ids["ticket_id"], author="agent").count() == 1


def test_edit_stores_the_agents_text_and_a_stale_version_conflicts(brand, member):
    from tests.factories import DraftFactory, TicketFactory

    draft = DraftFactory(ticket=TicketFactory(brand=brand), body="Original")
    agent, _ = member(brand)
    url = reverse("draft_decide", args=[draft.pk, "edit"])

    first = agent.post(url, {"version": 1, "text": "Edited by me"}, HTTP_HX_REQUEST="true")
    second = agent.post(
        url, {"version": 1, "text": "Edited by someone else"}, HTTP_HX_REQUEST="true"
    )

    assert first.status_code == 200
    assert second.status_code == 409
    assert "already" in second.content.decode()
    draft.refresh_from_db()
    assert draft.decision == Draft.Decision.EDITED and draft.final_text == "Edited by me"


def test_posting_the_same_external_id_twice_stores_one_ticket_and_one_draft(client, brand):
    token = brand.rotate_api_token()
    payload = {"external_id": "zd-dup", "body": "What are your opening hours?"}

    first = post_ticket(client, token, **payload)
    second = post_ticket(client, token, **payload)

    assert first.status_code == second.status_code == 202
    assert first.json()["ticket_id"] == second.json()["ticket_id"]
    assert first.json()["draft_id"] == second.json()["draft_id"]
    assert second.json()["created"] is False
    assert Ticket.objects.filter(brand=brand).count() == 1
    assert Draft.objects.filter(ticket__brand=brand).count() == 1


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ("{}", {"HTTP_AUTHORIZATION": "Bearer nope"}, 401, "unauthorized"),
        ("{}", {}, 401, "unauthorized"),
        ("not json", None, 400, "invalid_ticket"),
        ("[1, 2]", None, 400, "invalid_ticket"),
        (json.dumps({"body": "hi"}), None, 400, "invalid_ticket"),
        (json.dumps({"external_id": "x", "body": 3}), None, 400, "invalid_ticket"),
        (
            json.dumps({"external_id": "x", "body": "hi", "customer": {"email_verified": "yes"}}),
            None,
            400,
            "invalid_ticket",
        ),
    ],
)
def test_bad_intake_gets_a_clear_4xx_and_stores_nothing(client, brand, body, headers, status, code):
    token = brand.rotate_api_token()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if headers is None else headers

    response = client.post(
        reverse("api_ticket_create"), data=body, content_type="application/json", **headers
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert not Ticket.objects.exists()


def test_oversized_intake_is_refused(client, brand, settings):
    settings.COPILOT_INTAKE_MAX_BYTES = 100
    token = brand.rotate_api_token()

    response = post_ticket(client, token, external_id="big", body="x" * 500)

    assert response.status_code == 413
    assert not Ticket.objects.exists()
