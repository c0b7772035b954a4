"""The grounding check: order facts in a draft are matched against tool results and ticket."""

from __future__ import annotations

import pytest

from audit.models import Span
from copilot.agent import grounding
from copilot.models import Draft
from copilot.services import draft_generate, draft_request
from orders.schema import OrderStatus
from tests.copilot.agent.runs import run
from tests.fakes import openai_server as fake

RESULT = {
    "orders": [
        {
            "number": "NW-2001",
            "status": "in_transit",
            "created_at": "2026-11-20T09:12:00+00:00",
            "estimated_delivery": "2026-11-28",
            "total": "49.00",
            "currency": "EUR",
            "shipments": [{"carrier": "DHL", "tracking_number": "JD0042", "status": "in_transit"}],
        }
    ]
}


def test_quoting_the_fetched_facts_is_grounded():
    draft = (
        "Hello Ana, your order #NW-2001 is in transit with DHL, tracking number JD0042. "
        "It should arrive on November 28 (2026-11-28). You paid 49.00 EUR."
    )

    report = grounding.check(draft, tool_results=[RESULT], ticket_text="where is my order?")

    assert report.label == grounding.GROUNDED and report.unverified == ()
    kinds = {fact.kind for fact in report.verified}
    assert kinds == {"order_number", "status", "carrier", "tracking_number", "date", "amount"}


def test_an_invented_tracking_number_is_unverified_with_its_offsets():
    draft = "Your order NW-2001 is on its way with DHL, tracking number JD0099."

    report = grounding.check(draft, tool_results=[RESULT], ticket_text="where is my order?")

    assert report.label == grounding.UNVERIFIED
    (fact,) = report.unverified
    assert (fact.kind, fact.text) == ("tracking_number", "JD0099")
    assert draft[fact.start : fact.end] == "JD0099"
    assert report.as_dict()["unverified"] == [
        {"start": fact.start, "end": fact.end, "text": "JD0099", "kind": "tracking_number"}
    ]


@pytest.mark.parametrize(
    ("draft", "invented"),
    [
        ("It ships with UPS.", "UPS"),
        ("It will arrive on 2026-12-24.", "2026-12-24"),
        ("You paid €79.90 for it.", "€79.90"),
        ("Your order NW-3333 has shipped.", "NW-3333"),
        ("Votre commande a été livrée.", "livrée"),
        ("Reference 1Z999AA10123456784 is yours.", "1Z999AA10123456784"),
    ],
)
def test_each_kind_of_invented_fact_is_flagged(draft, invented):
    report = grounding.check(draft, tool_results=[RESULT], ticket_text="help")

    assert report.label == grounding.UNVERIFIED
    assert invented in [fact.text for fact in report.unverified]


def test_a_draft_using_no_data_is_generative():
    report = grounding.check(
        "Hello, could you send us your order number so that we can check?",
        tool_results=[],
        ticket_text="where is my parcel",
    )

    assert report.label == grounding.GENERATIVE and report.unverified == ()


def test_facts_the_customer_or_the_brand_gave_are_not_unverified():
    report = grounding.check(
        "We could not find order NW-7777. Returns are free within 30 days; we ship with DHL.",
        tool_results=[{"orders": [], "message": "No order NW-7777 was found."}],
        ticket_text="Where is my order NW-7777?",
        brand_texts=["Returns are free within 30 days. We ship with DHL."],
    )

    assert report.label != grounding.UNVERIFIED


@pytest.mark.django_db(transaction=True)
def test_engine_labels_an_invented_tracking_number_and_records_the_span(world, openai_server):
    draft_text = "Your order NW-2001 is on its way with DHL, tracking number JD7777777."
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}), fake.text(draft_text)
    )

    result = run(world.ticket("Where is order NW-2001?"))

    assert result.trace.grounding == "unverified"
    span = result.trace.spans[-1]
    assert (span.kind, span.name, span.status) == (Span.Kind.GUARDRAIL, "grounding_check", "error")
    start = draft_text.index("JD7777777")
    assert span.result == {
        "label": "unverified",
        "unverified": [
            {"start": start, "end": start + 9, "text": "JD7777777", "kind": "tracking_number"}
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_stored_trace_carries_the_grounding_label(world):
    draft = draft_request(ticket=world.ticket("Where is order NW-2001?"), enqueue=False)

    draft_generate(draft_id=draft.pk, provider_name="rules")

    draft.refresh_from_db()
    assert draft.status == Draft.Status.READY and "JD0042" in draft.body
    assert draft.trace.grounding == "grounded"
    check = draft.trace.spans.get(name="grounding_check")
    assert check.result == {"label": "grounded", "unverified": []}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [s.value for s in OrderStatus])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_rules_drafts_for_every_order_status_are_grounded(world, status, language):
    world.order.status = status
    world.order.save()
    text = {"en": "Where is my order NW-2001?", "fr": "Où est ma commande NW-2001 ?"}[language]

    result = run(world.ticket(text), "rules")

    check = result.trace.spans[-1].result
    assert result.trace.grounding == "grounded", (result.text, check)


def test_a_status_the_order_does_not_have_is_unverified():
    report = grounding.check(
        "Good news: your order NW-2001 was delivered yesterday.",
        tool_results=[RESULT],
        ticket_text="where is my order?",
    )

    assert report.label == grounding.UNVERIFIED
    assert [(f.kind, f.text) for f in report.unverified] == [("status", "delivered")]
