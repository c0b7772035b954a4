"""The grounding check: order facts in a draft are matched against tool results and ticket."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import Span
from copilot import demo
from copilot.agent import grounding
from copilot.models import Draft, Ticket
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


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_stored_trace_carries_the_grounding_label(world):
    draft = draft_request(ticket=world.ticket("Where is order NW-2001?"), enqueue=False)

    draft_generate(draft_id=draft.pk, provider_name="rules")

    draft.refresh_from_db()
    assert draft.status == Draft.Status.READY and "JD0042" in draft.body
    assert draft.trace.grounding == "grounded"
    check = draft.trace.spans.get(name="grounding_check")
    assert check.result == {"label": "grounded", "unverified": []}


@pytest.mark.django_db
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
        today=dt.date(2026, 11, 26),
    )

    assert report.label == grounding.UNVERIFIED
    # Nothing happened to the order on 2026-11-25 either.
    assert [(f.kind, f.text) for f in report.unverified] == [
        ("status", "delivered"),
        ("relative_date", "yesterday"),
    ]


# --- items, weekdays and relative dates ------------------------------------------------------

TODAY = dt.date(2026, 11, 26)  # a Thursday: the run's date in the tests below


def order_result(
    *,
    items=("Merino sweater", "Wool socks"),
    estimate="2026-12-01",  # a Tuesday
    events=(),
    status="in_transit",
    carrier=None,
):
    """A fetch_orders result for order NW-2001, placed on Friday 2026-11-20."""
    shipment = {
        "carrier": "DHL",
        "tracking_number": "JD0042",
        "status": status,
        "events": [{"time": f"{day}T10:00:00+00:00", "description": "Scan"} for day in events],
    }
    if carrier is not None:
        shipment["carrier_tracking"] = {
            "source": "Demo carrier feed",
            "checked_at": f"{TODAY}T09:00:00+00:00",
            "status_detail": "",
            "events": [],
            "expected_delivery": None,
            "error": "",
            **carrier,
        }
    return {
        "orders": [
            {
                "number": "NW-2001",
                "status": status,
                "created_at": "2026-11-20T09:12:00+00:00",
                "estimated_delivery": estimate,
                "items": [{"title": title, "quantity": 1} for title in items],
                "shipments": [shipment],
            }
        ]
    }


def unverified(draft, result, ticket="Where is my order?", **kwargs):
    """The (kind, text) of the facts of `draft` no source backs, each checked against its
    offsets."""
    report = grounding.check(
        draft,
        tool_results=[result] if result else [],
        ticket_text=ticket,
        today=TODAY,
        **kwargs,
    )
    assert (report.label == grounding.UNVERIFIED) == bool(report.unverified)
    for fact in report.unverified:
        assert draft[fact.start : fact.end] == fact.text
    return [(fact.kind, fact.text) for fact in report.unverified]


def test_the_jacket_asked_about_is_unverified_when_the_order_holds_a_sweater():
    ticket = "Hi, I ordered a jacket last week and it still hasn't arrived. Where is my order?"

    jacket = grounding.check(
        "Good news: your jacket has shipped with DHL.",
        tool_results=[order_result()],
        ticket_text=ticket,
        today=TODAY,
    )
    sweater = grounding.check(
        "Good news: your sweater has shipped with DHL.",
        tool_results=[order_result()],
        ticket_text=ticket,
        today=TODAY,
    )

    assert jacket.label == grounding.UNVERIFIED
    assert jacket.as_dict()["unverified"] == [
        {"start": 16, "end": 22, "text": "jacket", "kind": "item"}
    ]
    assert sweater.label == grounding.GROUNDED
    assert ("item", "sweater") in [(fact.kind, fact.text) for fact in sweater.verified]


@pytest.mark.parametrize(
    ("draft", "titles", "ticket"),
    [
        ("Your Sweaters have shipped.", ["Merino sweater"], "where is it?"),
        ("Your jumper has shipped.", ["Merino sweater"], "where is it?"),
        ("Votre veste a été expédiée.", ["Wool jacket"], "où est ma veste ?"),
        ("Vos chaussures sont en route.", ["Leather boots"], "où sont mes chaussures ?"),
        ("Your clothes have shipped.", ["Wool socks"], "where is it?"),
        ("Your t-shirts have shipped.", ["Organic T-shirt"], "where is it?"),
        ("Your pullover has shipped.", ["Pull-over"], "where is it?"),
        ("Your kimono has shipped.", ["Silk kimono"], "I ordered a blue kimono from you."),
    ],
)
def test_an_item_of_the_fetched_order_is_backed_whatever_its_form_or_language(
    draft, titles, ticket
):
    assert unverified(draft, order_result(items=titles), ticket) == []


@pytest.mark.parametrize(
    ("draft", "titles", "ticket", "claim"),
    [
        ("Votre veste a été expédiée.", ["Merino sweater"], "où est ma veste ?", "veste"),
        ("Your boots have shipped.", ["Merino sweater"], "where is it?", "boots"),
        ("Your lamp has shipped.", ["Ceramic mug"], "where is it?", "lamp"),
        # Not a word of the vocabulary: a product because the customer bought one.
        ("Your kimono has shipped.", ["Merino sweater"], "I ordered a blue kimono.", "kimono"),
        ("Votre kimono est en route.", ["Merino sweater"], "J'ai commandé un kimono.", "kimono"),
    ],
)
def test_an_item_the_fetched_orders_do_not_hold_is_unverified(draft, titles, ticket, claim):
    assert unverified(draft, order_result(items=titles), ticket) == [("item", claim)]


def test_ordinary_words_are_never_item_claims():
    draft = (
        "Thank you for your patience and sorry for the wait. Your parcel with both items is "
        "on its way, and we will keep an eye on the tracking for you. Could you confirm the "
        "address, and tell us whether the gift box arrived?"
    )

    facts = grounding.extract_facts(draft, products=frozenset({"kimono"}))

    assert [fact for fact in facts if fact.kind == "item"] == []
    assert unverified(draft, order_result()) == []


def test_without_item_titles_the_ticket_backs_an_item_and_nothing_else_does():
    result = order_result(items=())
    ticket = "I ordered a lamp and it never came."

    assert unverified("We are checking where your lamp is.", result, ticket) == []
    assert unverified("We are checking where your rug is.", result, ticket) == [("item", "rug")]


@pytest.mark.parametrize(
    ("draft", "result", "flagged"),
    [
        # The estimate is Tuesday 2026-12-01; nothing of the order falls on a Friday ahead.
        ("It should arrive on Friday.", order_result(), [("weekday", "Friday")]),
        ("It should arrive on Tuesday.", order_result(), []),
        ("Il devrait arriver vendredi.", order_result(), [("weekday", "vendredi")]),
        ("Il devrait arriver mardi prochain.", order_result(), []),
        ("It should arrive on Friday.", order_result(estimate="2026-11-27"), []),
        # "On Friday" is this week's or next week's, not one three weeks away.
        (
            "It should arrive on Friday.",
            order_result(estimate="2026-12-18"),
            [("weekday", "Friday")],
        ),
        # Picked up last Friday: that backs the past, not a promise.
        ("It was picked up on Friday.", order_result(events=["2026-11-20"]), []),
        (
            "It should arrive on Friday.",
            order_result(estimate=None, events=["2026-11-20"]),
            [("weekday", "Friday")],
        ),
        # A weekday written with a date must be that date's.
        ("It should arrive on Saturday, November 28.", order_result(estimate="2026-11-28"), []),
        (
            "It should arrive on Friday, November 28.",
            order_result(estimate="2026-11-28"),
            [("date", "Friday, November 28")],
        ),
    ],
)
def test_a_weekday_no_source_date_falls_on_is_unverified(draft, result, flagged):
    assert unverified(draft, result) == flagged


@pytest.mark.parametrize(
    ("draft", "result", "flagged"),
    [
        ("It should arrive tomorrow.", order_result(estimate="2026-11-27"), []),
        (
            "It should arrive tomorrow.",
            order_result(),
            [("relative_date", "tomorrow")],
        ),
        ("Elle devrait arriver demain.", order_result(estimate="2026-11-27"), []),
        ("Elle devrait arriver après-demain.", order_result(estimate="2026-11-28"), []),
        ("It should arrive in 5 days.", order_result(), []),
        ("It should arrive in 2 days.", order_result(), [("relative_date", "in 2 days")]),
        ("It should arrive in 2-3 working days.", order_result(), []),  # over the weekend
        ("Elle arrivera dans 5 jours.", order_result(), []),
        ("It should arrive next week.", order_result(), []),
        (
            "It should arrive next week.",
            order_result(estimate="2026-11-28"),
            [("relative_date", "next week")],
        ),
        ("Livraison prévue la semaine prochaine.", order_result(), []),
        ("It should arrive by Friday.", order_result(estimate="2026-11-27"), []),
        ("It should arrive by Friday.", order_result(), [("weekday", "by Friday")]),
        ("It left the hub yesterday.", order_result(events=["2026-11-25"]), []),
        ("Il a quitté l'entrepôt il y a 6 jours.", order_result(events=["2026-11-20"]), []),
        # The carrier's own estimate backs it as the shop's would.
        (
            "It should arrive tomorrow.",
            order_result(estimate=None, carrier={"expected_delivery": "2026-11-27"}),
            [],
        ),
        # When the carrier was asked (today) dates nothing the customer waits for.
        (
            "It will arrive today.",
            order_result(estimate=None, carrier={"status": "in_transit"}),
            [("relative_date", "today")],
        ),
        ("It is out for delivery today.", order_result(status="out_for_delivery"), []),
    ],
)
def test_a_relative_date_is_read_against_the_run_date_and_the_estimates(draft, result, flagged):
    assert unverified(draft, result) == flagged


def test_the_ticket_backs_a_date_the_customer_gave_and_the_brand_only_what_is_quoted():
    rounds = ["Our couriers deliver Monday to Friday, 8:00 to 20:00."]
    returns = ["You can return any unused item within 30 days; the return label is free."]

    assert unverified("You need it by Friday, we understand.", {}, "I need it by Friday!") == []
    assert unverified("It was due two days ago.", {}, "It was due two days ago.") == []
    assert unverified("Couriers deliver Monday to Friday.", {}, "?", brand_texts=rounds) == []
    assert unverified("Return it within 30 days.", {}, "Returns?", brand_texts=returns) == []
    # The brand's delivery rounds name weekdays; they back no delivery day of this order.
    assert unverified("It should arrive on Monday.", {}, "Where?", brand_texts=rounds) == [
        ("weekday", "Monday")
    ]


@pytest.mark.parametrize(
    "draft",
    [
        "Thank you for contacting us today. We will get back to you tomorrow with news.",
        "Notre équipe vous répondra demain. Nous revenons vers vous lundi.",
        "Our team answers Monday to Friday.",
        "You ordered during our Black Friday sale.",
    ],
)
def test_dates_of_the_teams_own_replies_and_sales_are_not_order_facts(draft):
    facts = grounding.extract_facts(draft)

    assert [fact for fact in facts if fact.kind in {"weekday", "relative_date"}] == []
    assert unverified(draft, order_result()) == []


@pytest.mark.parametrize(
    ("draft", "status", "flagged"),
    [
        ("Your order NW-2001 has not been delivered yet.", "in_transit", []),
        ("Your order NW-2001 has not been delivered yet.", "delivered", [("status", "delivered")]),
        ("Votre commande NW-2001 n'a pas encore été livrée.", "delivered", [("status", "livrée")]),
        ("Part of NW-2001 has shipped; the rest has not shipped yet.", "partially_shipped", []),
        ("Your order NW-2001 has not shipped yet.", "in_transit", [("status", "shipped")]),
    ],
)
def test_a_denied_status_is_backed_by_any_status_that_does_not_wholly_mean_it(
    draft, status, flagged
):
    assert unverified(draft, order_result(status=status)) == flagged


# --- the carrier's own report -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "shop", "carrier", "flagged"),
    [
        ("Your order NW-2001 was delivered.", "delivered", "delivery_exception", "delivered"),
        ("Votre commande NW-2001 a été livrée.", "delivered", "returned", "livrée"),
        ("Your order NW-2001 is on its way.", "in_transit", "delivered", "on its way"),
        (
            "Your order NW-2001 is out for delivery.",
            "out_for_delivery",
            "returned",
            "out for delivery",
        ),
    ],
)
def test_a_delivery_status_the_carrier_contradicts_is_unverified(draft, shop, carrier, flagged):
    result = order_result(status=shop, carrier={"status": carrier, "status_detail": "Exception"})

    assert unverified(draft, result) == [("status", flagged)]
    # Without the carrier's report, the shop's status backs the same draft.
    assert unverified(draft, order_result(status=shop)) == []


@pytest.mark.parametrize(
    "draft",
    [
        "Our records show NW-2001 as delivered, but DHL reports a delivery problem.",
        "Our records show NW-2001 as delivered, but DHL reports an exception; we are checking.",
        "Our records show NW-2001 as delivered, but DHL says: address not found.",
        "Your order NW-2001 has not been delivered yet: we are checking with DHL.",
    ],
)
def test_a_draft_that_says_what_the_carrier_reports_is_not_contradicted(draft):
    result = order_result(
        status="delivered",
        carrier={"status": "delivery_exception", "status_detail": "Address not found"},
    )

    assert unverified(draft, result) == []


def test_carrier_contradictions_judges_the_order_the_sentence_names():
    shop_only = order_result(status="delivered")["orders"][0] | {"number": "NW-2002"}
    contradicted = order_result(status="delivered", carrier={"status": "delivery_exception"})
    results = [{"orders": [*contradicted["orders"], shop_only]}]

    def check(draft):
        facts = grounding.extract_facts(draft)
        return [f.text for f in grounding.carrier_contradictions(draft, facts, results)]

    assert check("Your order NW-2001 was delivered.") == ["delivered"]
    assert check("Your order NW-2002 was delivered.") == []
    # Naming neither: one of the two may well have been delivered.
    assert check("Your parcel was delivered.") == []


# --- through the engine -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("when", "label"), [("tomorrow", "grounded"), ("in 3 days", "unverified")])
def test_engine_reads_relative_dates_against_the_day_of_the_run(world, openai_server, when, label):
    world.order.estimated_delivery = timezone.localdate() + dt.timedelta(days=1)
    world.order.save()
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text(f"Your order NW-2001 is on its way with DHL and should arrive {when}."),
    )

    result = run(world.ticket("Where is order NW-2001?"))

    assert result.trace.grounding == label, result.trace.spans[-1].result


@pytest.mark.django_db(transaction=True)
def test_no_offline_draft_of_a_demo_ticket_is_unverified():
    """Every demo ticket of every demo brand (orders fetched or not, findings or not) runs
    through the engine with the offline provider: its true drafts must never be labelled
    unverified, and one that used an order must be grounded."""
    demo.seed_demo()
    fetched_orders = 0

    for ticket in Ticket.objects.filter(brand__slug__in=[b.slug for b in demo.BRANDS]):
        result = run(ticket, "rules")

        check = result.trace.spans[-1].result
        assert result.trace.grounding != "unverified", (ticket.external_id, result.text, check)
        tools = [span for span in result.trace.spans if span.name == "fetch_orders"]
        if any((span.result or {}).get("orders") for span in tools):
            fetched_orders += 1
            assert result.trace.grounding == "grounded", (ticket.external_id, result.text)

    # The brand that fetches orders answered its where-is-my-order tickets from them.
    assert fetched_orders >= 5


def test_words_after_tracking_are_not_tracking_numbers():
    draft = "There has been no tracking update from DHL for several days; le suivi depuis lundi."

    facts = grounding.extract_facts(draft)

    assert [fact for fact in facts if fact.kind in {"tracking_number", "reference"}] == []
