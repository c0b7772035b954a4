"""Done-point 2: at the shadow stage the tool runs after the draft, the draft and the model
never see its data, and the trace shows the call as shadow."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

import copilot.services
from audit.models import Span, Trace
from copilot.agent.providers.rules import RulesProvider
from rollout.models import Stage
from rollout.services import rollout_set_stage
from tests.factories import DemoOrderFactory, DemoShipmentFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


class RecordingProvider(RulesProvider):
    """The offline provider, keeping every message it was shown."""

    seen: list[str]

    def complete(self, messages, tools, timeout=None):
        self.seen.extend(json.dumps(m) for m in messages)
        self.seen.extend(json.dumps(t) for t in tools)
        return super().complete(messages, tools, timeout=timeout)


@pytest.fixture
def recording(monkeypatch):
    seen: list[str] = []

    def provider_for(brand, name=None):
        provider = RecordingProvider(brand)
        provider.seen = seen
        return provider

    monkeypatch.setattr(copilot.services, "provider_for", provider_for)
    return seen


@pytest.fixture
def order(brand):
    order = DemoOrderFactory(brand=brand, number="SH-7001", customer__email="sam@example.com")
    DemoShipmentFactory(order=order, carrier="UPS", tracking_number="SHTRACK9")
    return order


def wismo_ticket(brand, order):
    return TicketFactory(brand=brand, customer=order.customer, body="Where is my order SH-7001?")


def set_stage(brand, admin, stage):
    rollout_set_stage(brand=brand, tool="fetch_orders", stage=stage, user=admin, reason="test")


def test_shadow_runs_the_tool_but_neither_the_model_nor_the_draft_see_its_data(
    brand, admin, order, recording, generate
):
    set_stage(brand, admin, Stage.SHADOW)

    draft = generate(wismo_ticket(brand, order))

    assert draft.body and "SHTRACK9" not in draft.body and "UPS" not in draft.body
    assert recording and not any("SHTRACK9" in m or "fetch_orders" in m for m in recording)
    trace = Trace.objects.get(draft=draft)
    assert trace.plan["stage"] == "shadow"
    assert trace.plan["available_tools"] == [] and trace.plan["shadow_tools"] == ["fetch_orders"]
    assert trace.tools_used == [] and trace.tool_calls_count == 0
    spans = list(trace.spans.order_by("seq"))
    # The draft's own run (model turn, grounding check), then the shadow call.
    assert [s.kind for s in spans] == [Span.Kind.LLM, Span.Kind.GUARDRAIL, Span.Kind.TOOL]
    assert spans[1].name == "grounding_check"
    shadow = spans[-1]
    assert shadow.name == "fetch_orders" and shadow.status == Span.Status.OK
    assert shadow.attributes["shadow"] is True
    assert shadow.arguments == {"order_number": "SH-7001"}
    assert shadow.result["orders"][0]["shipments"][0]["tracking_number"] == "SHTRACK9"
    assert shadow.started_at >= spans[0].started_at


def test_the_same_ticket_at_the_on_stage_does_use_the_data(
    brand, admin, order, recording, generate
):
    """The control for the test above: with the tool on, the same draft carries the data."""
    set_stage(brand, admin, Stage.ON)

    draft = generate(wismo_ticket(brand, order))

    assert "SHTRACK9" in draft.body
    assert any("SHTRACK9" in m for m in recording)
    tool = Trace.objects.get(draft=draft).spans.get(kind=Span.Kind.TOOL)
    assert "shadow" not in tool.attributes


def test_shadow_call_goes_through_the_context_gate(brand, admin, generate):
    set_stage(brand, admin, Stage.SHADOW)
    ticket = TicketFactory(
        brand=brand, customer__email_verified=False, body="Where is my parcel? Not here yet."
    )

    trace = Trace.objects.get(draft=generate(ticket))

    blocked = trace.spans.get(kind=Span.Kind.GUARDRAIL, name="fetch_orders")
    assert blocked.name == "fetch_orders" and blocked.status == Span.Status.BLOCKED
    assert blocked.error["code"] == "missing_customer_context"
    assert blocked.attributes["shadow"] is True
    assert not trace.spans.filter(kind=Span.Kind.TOOL).exists()


def test_a_failing_shadow_call_is_a_span_not_a_failed_draft(brand, admin, order, generate):
    from orders.models import OrderSource

    # A Shopify source nobody listens for: the connector fails, the draft does not.
    OrderSource.objects.create(
        brand=brand, kind=OrderSource.Kind.SHOPIFY, shop_url="http://127.0.0.1:9", timeout_seconds=1
    )
    set_stage(brand, admin, Stage.SHADOW)

    draft = generate(wismo_ticket(brand, order))

    assert draft.status == draft.Status.READY
    shadow = Trace.objects.get(draft=draft).spans.get(kind=Span.Kind.TOOL)
    assert shadow.status == Span.Status.ERROR and shadow.attributes["shadow"] is True
    assert shadow.error["code"]


def test_the_trace_panel_labels_the_shadow_call(brand, admin, order, generate, member):
    set_stage(brand, admin, Stage.SHADOW)
    draft = generate(wismo_ticket(brand, order))
    agent, _ = member(brand)

    html = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()

    assert 'class="badge warn" title="Measured only' in html
