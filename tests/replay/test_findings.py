"""Replay hands the model the recorded tool result with its order-data findings, as the
live run saw them, even once the order system has moved on."""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone

from audit.models import Span, Trace
from copilot.models import Draft
from copilot.services import draft_generate, draft_request
from copilot.tools import ToolContext
from orders.models import DemoOrder
from replay.models import ReplayResult
from replay.recorded import recorded_tools
from replay.selectors import ReplayFilters
from replay.services import replay_start
from tests.factories import (
    CustomerFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    TicketFactory,
)
from tests.replay.test_services import TODAY, run_to_end


def test_replay_reads_the_recorded_findings_not_todays_order(
    brand, transactional_db, enable_fetch_orders, rules_config
):
    enable_fetch_orders(brand)
    customer = CustomerFactory(brand=brand)
    late = DemoOrderFactory(
        brand=brand,
        customer=customer,
        number="NW-6100",
        estimated_delivery=timezone.localdate() - dt.timedelta(days=2),
    )
    shipment = DemoShipmentFactory(order=late, carrier="GLS", tracking_number="GLS6100")
    DemoTrackingEventFactory(shipment=shipment, description="Arrived at delivery depot")
    ticket = TicketFactory(brand=brand, customer=customer, body="Where is my order NW-6100?")
    draft = draft_request(ticket=ticket, enqueue=False)
    draft_generate(draft_id=draft.pk, provider_name="rules")
    live = Trace.objects.get(draft_id=draft.pk)
    recorded = live.spans.get(kind=Span.Kind.TOOL)
    assert recorded.attributes["findings"] == ["eta_passed"]
    live_text = Draft.objects.get(pk=draft.pk).body
    assert "has passed" in live_text

    # The shop updates its estimate: a live lookup would now find nothing to check.
    DemoOrder.objects.filter(pk=late.pk).update(
        estimated_delivery=timezone.localdate() + dt.timedelta(days=3)
    )

    # What the replayed tool answers the model: the recorded data, findings included.
    tool = recorded_tools(spans=live.spans.all(), names=["fetch_orders"])["fetch_orders"]
    context = ToolContext(
        brand=brand,
        ticket=ticket,
        customer=customer,
        ticket_order_numbers=("NW-6100",),
        deadline=time.monotonic() + 5,
    )
    output = tool.handler(context, recorded.arguments)
    assert [f["code"] for f in output.data["orders"][0]["findings"]] == ["eta_passed"]
    assert output.data == recorded.result
    assert output.attributes["findings"] == ["eta_passed"]

    # And a whole replay of the live configuration writes the same honest draft.
    run = run_to_end(
        replay_start(brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY))
    )
    result = ReplayResult.objects.get(item__run=run)
    assert result.text == live_text
