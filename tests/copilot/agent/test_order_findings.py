"""Order-data findings reach the drafts: the offline rules never reassure on them nor invent
a date, the ticket goes to the leads when the order is stalled, late or contradictory, the
model is told of them, and a model that states a disputed status gets an unverified draft."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from audit.sensitivity import reason_words
from audit.services import trace_record
from copilot import demo
from copilot.agent.prompts.v1 import FINDINGS_RULE, system_prompt
from copilot.models import Draft, Ticket
from orders.models import OrderSource
from tests.copilot.agent.runs import run
from tests.fakes import openai_server as fake

# The demo ticket that reaches each finding (see copilot.demo).
DEMO_TICKETS = {
    "status_conflict": "northwind-wismo-11",
    "no_movement": "northwind-wismo-12",
    "eta_passed": "northwind-wismo-13",
    "missing_tracking": "northwind-wismo-14",
    "no_carrier_scan": "northwind-wismo-15",
    "refunded_but_fulfilled": "northwind-wismo-16",
    "cancelled_but_fulfilled": "northwind-wismo-17",
    "partial_response": "northwind-wismo-18",
    "stale_data": "northwind-wismo-19",
}
REASSURING = ("on its way", "will arrive", "the rest will follow", "expected delivery:")
# Dates a draft could state without an ISO date: they are never a source's own words here.
LOOSE_DATES = re.compile(
    r"\b(?:today|tomorrow|tonight|next week|this week|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|january|february|march|april|may\s+\d+|june|july|august|september|"
    r"october|november|december)\b",
    re.IGNORECASE,
)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def fetched(trace) -> tuple[list[str], str]:
    """The finding codes of the run's order lookups, and the data they returned as text."""
    spans = [s for s in trace.spans.all() if s.name == "fetch_orders"]
    codes = sorted({code for s in spans for code in (s.attributes or {}).get("findings", [])})
    return codes, json.dumps([s.result for s in spans])


def assert_honest(text: str, sources: str, context: str) -> None:
    lowered = text.lower()
    assert not [p for p in REASSURING if p in lowered], (context, text)
    assert not LOOSE_DATES.search(text), (context, text)
    assert set(ISO_DATE.findall(text)) <= set(ISO_DATE.findall(sources)), (context, text)
    assert "checking" in lowered and "get back to you" in lowered, (context, text)


@pytest.mark.django_db(transaction=True)
def test_the_rules_drafts_of_each_finding_neither_reassure_nor_invent_and_flag_the_ticket():
    demo.seed_demo()

    for code, external_id in DEMO_TICKETS.items():
        ticket = Ticket.objects.get(external_id=external_id)
        draft = Draft.objects.filter(ticket=ticket).select_related("trace").get()
        codes, sources = fetched(draft.trace)

        assert codes == [code], (external_id, codes)
        assert_honest(draft.body, sources, external_id)
        reason = f"order_finding:{code}"
        assert draft.trace.sensitive and reason in draft.trace.sensitive_reasons, external_id
        assert reason_words(reason).startswith("order data: ")
        assert code not in reason_words(reason)

    # The late, stalled parcel of the original demo ("supposed to arrive two days ago").
    late = Draft.objects.get(ticket__external_id="northwind-wismo-4")
    codes, sources = fetched(late.trace)
    assert codes == ["eta_passed", "no_movement"]
    assert_honest(late.body, sources, "wismo-4")
    assert {"order_finding:no_movement", "order_finding:eta_passed"} <= set(
        late.trace.sensitive_reasons
    )
    # A partial shipment no longer promises the rest.
    partial = Draft.objects.get(ticket__external_id="northwind-wismo-6")
    assert "the rest will follow" not in partial.body.lower()
    assert "has not shipped yet" in partial.body


@pytest.mark.django_db
def test_the_rules_draft_on_stale_data_says_it_is_being_checked(world, settings):
    settings.ORDERS_MAX_DATA_AGE_SECONDS = 0  # every read is older than the bound
    draft_ticket = world.ticket("Hi, where is my order NW-2001?")

    result = run(draft_ticket, "rules")

    codes = [c for s in result.trace.spans for c in s.attributes.get("findings", [])]
    assert codes == ["stale_data"]
    assert "may not be fully up to date" in result.text
    assert_honest(result.text, json.dumps([s.result for s in result.trace.spans]), "stale")
    trace = trace_record(
        draft=Draft.objects.create(ticket=draft_ticket, body=result.text), data=result.trace
    )
    assert trace.sensitive_reasons == ["order_finding:stale_data"]  # a person checks it


@pytest.mark.django_db
def test_a_passed_date_the_brand_hides_is_not_written_either(world):
    world.order.estimated_delivery = dt.date.today() - dt.timedelta(days=3)
    world.order.save()
    OrderSource.objects.create(brand=world.brand, allowed_fields=["number", "status", "shipments"])

    result = run(world.ticket("Hi, where is my order NW-2001?"), "rules")

    assert "The expected delivery date has passed" in result.text
    assert not ISO_DATE.search(result.text)
    assert world.order.estimated_delivery.isoformat() not in json.dumps(
        [s.result for s in result.trace.spans]
    )


def test_the_prompt_tells_the_model_not_to_reassure_on_findings():
    with_tool = system_prompt(
        brand_name="Northwind",
        language="en",
        signature="",
        knowledge={},
        available_tools=["fetch_orders"],
    )
    without = system_prompt(
        brand_name="Northwind", language="en", signature="", knowledge={}, available_tools=[]
    )

    assert FINDINGS_RULE in with_tool and FINDINGS_RULE not in without
    for words in ("do not reassure", "checking", "no date", "follow up"):
        assert words in FINDINGS_RULE


# --- a model that ignores the contradiction ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "allowed",
    [None, ["number", "status", "status_label"]],
    ids=["default fields", "shipments hidden"],
)
def test_a_model_saying_delivered_while_the_carrier_reports_an_exception_is_unverified(
    world, openai_server, allowed
):
    world.order.status = "delivered"
    world.order.save()
    shipment = world.order.shipments.get()
    shipment.status, shipment.carrier_status = "delivered", "delivery_exception"
    shipment.save()
    if allowed is not None:
        OrderSource.objects.create(brand=world.brand, allowed_fields=allowed)
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text("Hello Ana, good news: your parcel NW-2001 was delivered. Enjoy it!"),
    )
    ticket = world.ticket("Where is my order NW-2001? Nothing has arrived.")

    result = run(ticket)

    # The model was handed the finding...
    told = json.loads(fake.tool_result_messages(openai_server.requests[1])[0]["content"])
    finding = told["orders"][0]["findings"][0]
    assert finding["code"] == "status_conflict" and finding["severity"] == "critical"
    assert FINDINGS_RULE in openai_server.requests[0]["messages"][0]["content"]
    # ...ignored it, and its "delivered" is labelled unverified on the grounding span.
    check = result.trace.spans[-1]
    assert check.name == "grounding_check" and check.status == "error"
    assert result.trace.grounding == "unverified"
    assert [(f["text"], f["kind"]) for f in check.result["unverified"]] == [("delivered", "status")]
    trace = trace_record(
        draft=Draft.objects.create(ticket=ticket, body=result.text), data=result.trace
    )
    assert trace.sensitive
    assert {"order_finding:status_conflict", "unverified_facts"} <= set(trace.sensitive_reasons)
