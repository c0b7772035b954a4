"""fetch_orders merges each parcel's carrier report into the customer's orders: AfterShip
beside Shopify, the demo carrier feed beside the demo store. Only the customer's own
tracking numbers are ever sent to a carrier; a carrier failure never fails the tool; each
parcel is looked up once per run, several at once, within the run's deadline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from audit.models import Span, Trace
from copilot.tools import ToolContext, ToolError
from orders.models import CarrierSource
from orders.tools import FETCH_ORDERS, fetch_orders
from tests.factories import (
    CustomerFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    OrderSourceFactory,
    TicketFactory,
)
from tests.fakes.aftership import API_KEY
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)

# Ana's three most recent Shopify orders hold three parcels (see tests.fakes.shopify): two
# AfterShip tracks (DHL, UPS) and one it does not (La Poste).
ANA_PARCELS = {"JD014600006281230701", "1Z999AA10123456784", "6A12345678901"}
BOBS_PARCEL = "0150123456"  # on order #1004, Bob's


def shopify_brand(brand, shopify, aftership, **carrier: Any) -> None:
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    if aftership is not None:
        CarrierSource.objects.create(
            brand=brand,
            kind=CarrierSource.Kind.AFTERSHIP,
            api_url=aftership.url,
            credentials={"api_key": API_KEY},
            timeout_seconds=carrier.get("timeout_seconds", 1.0),
        )


def context(brand, *, email: str = "ana@example.com", memo=None, seconds: float = 5.0):
    customer = CustomerFactory(brand=brand, email=email)
    return ToolContext(
        brand=brand,
        ticket=TicketFactory(brand=brand, customer=customer),
        customer=customer,
        ticket_order_numbers=(),
        deadline=time.monotonic() + seconds,
        memo={} if memo is None else memo,
    )


def parcels(data: dict) -> dict[str, dict]:
    """Each shipment of the answer by tracking number."""
    return {
        shipment["tracking_number"]: shipment
        for order in data["orders"]
        for shipment in order["shipments"]
    }


def asked(aftership) -> set[str]:
    return {r.query["tracking_numbers"] for r in aftership.tracking_requests()}


# --- the merge ------------------------------------------------------------------------------


def test_each_parcel_of_the_customers_orders_carries_its_carriers_report(brand, shopify, aftership):
    shopify_brand(brand, shopify, aftership)

    output = fetch_orders(context(brand), {})

    shipments = parcels(output.data)
    dhl = shipments["JD014600006281230701"]
    assert dhl["status"] == "delivered"  # the shop says delivered...
    assert dhl["carrier_tracking"]["status"] == "in_transit"  # ...the carrier does not
    assert dhl["carrier_tracking"]["source"] == "AfterShip"
    assert dhl["carrier_tracking"]["expected_delivery"] == "2026-11-28"
    assert dhl["carrier_tracking"]["events"][0]["description"] == "Arrived at hub"
    assert dhl["carrier_tracking"]["error"] == ""
    assert shipments["1Z999AA10123456784"]["carrier_tracking"]["status"] == "in_transit"
    la_poste = shipments["6A12345678901"]["carrier_tracking"]
    assert la_poste["error"] == "carrier_tracking_not_found" and la_poste["status"] is None
    # Only the customer's own parcels were asked about, each once.
    assert asked(aftership) == ANA_PARCELS
    assert len(aftership.tracking_requests()) == 3
    assert output.attributes["carrier_reports"] == 3
    assert output.attributes["carrier_errors"] == ["carrier_tracking_not_found"]


def test_the_demo_store_gets_the_demo_carrier_feed_by_default(brand):
    customer = CustomerFactory(brand=brand, email="ana@example.com")
    order = DemoOrderFactory(brand=brand, customer=customer, number="NW-3001")
    shipment = DemoShipmentFactory(
        order=order,
        tracking_number="JD777",
        status="in_transit",
        carrier_status="delivery_exception",
    )
    DemoTrackingEventFactory(shipment=shipment, description="Held at customs")

    data = fetch_orders(context(brand, email="other@example.com"), {"order_number": "NW-3001"})
    assert data.data["orders"] == []  # someone else's order: nothing, no carrier either

    ctx = ToolContext(
        brand=brand,
        ticket=TicketFactory(brand=brand, customer=customer),
        customer=customer,
        ticket_order_numbers=(),
        deadline=time.monotonic() + 5,
    )
    report = parcels(fetch_orders(ctx, {}).data)["JD777"]["carrier_tracking"]

    assert report["source"] == "Demo carrier feed"
    assert report["status"] == "delivery_exception"
    assert report["events"][0]["description"] == "Held at customs"


def test_a_shop_brand_without_a_carrier_source_makes_no_carrier_lookups(brand, shopify, aftership):
    shopify_brand(brand, shopify, None)

    data = fetch_orders(context(brand), {}).data

    assert all("carrier_tracking" not in s for s in parcels(data).values())
    assert aftership.requests == []


def test_the_demo_feed_counts_as_none_once_the_brand_reads_another_order_system(
    brand, shopify, aftership
):
    shopify_brand(brand, shopify, None)
    CarrierSource.objects.create(brand=brand, kind=CarrierSource.Kind.DEMO)

    data = fetch_orders(context(brand), {}).data

    assert data["orders"] and all("carrier_tracking" not in s for s in parcels(data).values())


def test_an_unreadable_carrier_key_is_an_error_on_each_parcel_not_a_failed_tool(
    brand, shopify, aftership, settings
):
    settings.COPILOT_ENCRYPTION_KEYS = ["old-key"]
    CarrierSource.objects.create(
        brand=brand, kind="aftership", api_url=aftership.url, credentials={"api_key": API_KEY}
    )
    settings.COPILOT_ENCRYPTION_KEYS = ["another-key"]  # the order source's key is readable
    shopify_brand(brand, shopify, None)

    data = fetch_orders(context(brand), {}).data

    assert [o["number"] for o in data["orders"]] == ["1001", "1002", "1003"]
    errors = {s["carrier_tracking"]["error"] for s in parcels(data).values()}
    assert errors == {"secret_unreadable"}
    assert aftership.requests == []


# --- every carrier fault: an error on the parcel, the orders still answer -----------------

CARRIER_FAULTS = [
    ("timeout", "carrier_timeout"),
    ("429", "carrier_throttled"),
    ("500", "carrier_unavailable"),
    ("401", "carrier_auth_failed"),
    ("malformed", "carrier_bad_response"),
]


@pytest.mark.parametrize(("fault", "code"), CARRIER_FAULTS)
def test_every_carrier_fault_is_an_error_on_the_parcel_and_the_orders_still_answer(
    brand, shopify, aftership, fault, code
):
    aftership.retry_after = "30"  # past the deadline: not waited for
    aftership.hang_seconds = 3.0
    shopify_brand(brand, shopify, aftership, timeout_seconds=0.5)
    aftership.fail(fault, times=None)

    started = time.monotonic()
    output = fetch_orders(context(brand, seconds=2.0), {})
    elapsed = time.monotonic() - started

    assert [o["number"] for o in output.data["orders"]] == ["1001", "1002", "1003"]
    reports = [s["carrier_tracking"] for s in parcels(output.data).values()]
    assert len(reports) == 3
    assert {r["error"] for r in reports} == {code}
    assert all(r["status"] is None and r["events"] == [] for r in reports)
    assert elapsed < 2.0  # within the deadline
    assert output.attributes["carrier_errors"] == [code]


def test_a_carrier_slower_than_the_deadline_is_cut_and_the_orders_answer(brand, shopify, aftership):
    aftership.hang_seconds = 5.0
    shopify_brand(brand, shopify, aftership, timeout_seconds=10)
    aftership.fail("timeout", times=None)

    started = time.monotonic()
    data = fetch_orders(context(brand, seconds=1.0), {}).data

    assert data["orders"]
    assert {s["carrier_tracking"]["error"] for s in parcels(data).values()} == {"carrier_timeout"}
    assert time.monotonic() - started < 1.3


def test_an_open_breaker_skips_the_carrier_and_says_so(brand, shopify, aftership, settings):
    settings.ORDERS_CIRCUIT_FAILURES = 3
    settings.ORDERS_HTTP_MAX_RETRIES = 0
    shopify_brand(brand, shopify, aftership)
    aftership.fail("500", times=None)
    fetch_orders(context(brand), {})  # three parcels fail: the circuit opens
    before = len(aftership.requests)

    data = fetch_orders(context(brand), {}).data  # another run

    assert {s["carrier_tracking"]["error"] for s in parcels(data).values()} == {
        "carrier_circuit_open"
    }
    assert len(aftership.requests) == before  # no request was made
    assert data["orders"]


@pytest.mark.parametrize(("fault", "code"), CARRIER_FAULTS)
def test_every_carrier_fault_through_the_engine_gives_an_honest_draft_in_time(
    brand, shopify, aftership, enable_fetch_orders, settings, fault, code
):
    from copilot import services as copilot_services
    from copilot.models import Draft

    settings.COPILOT_RUN_DEADLINE_SECONDS = 4.0
    aftership.retry_after = "30"  # past the deadline: not waited for
    aftership.hang_seconds = 3.0
    enable_fetch_orders(brand)
    shopify_brand(brand, shopify, aftership, timeout_seconds=0.5)
    aftership.fail(fault, times=None)

    started = time.monotonic()
    result = copilot_services.ticket_ingest(
        brand=brand,
        external_id=f"carrier-{fault}",
        subject="Where is my order?",
        body="Hello, where is my order?",
        customer_external_id="ana@example.com",
        customer_email="ana@example.com",
        customer_email_verified=True,
    )
    elapsed = time.monotonic() - started

    draft = Draft.objects.get(pk=result.draft.pk)
    assert draft.status == Draft.Status.READY, draft.status_reason
    assert elapsed < settings.COPILOT_RUN_DEADLINE_SECONDS
    trace = Trace.objects.get(draft=draft)
    span = trace.spans.get(kind=Span.Kind.TOOL)
    assert span.status == Span.Status.OK  # the shop's orders still answer
    assert span.result["orders"][0]["shipments"][0]["carrier_tracking"]["error"] == code
    body = draft.body.lower()
    assert "checking" in body  # what is known, what is being checked
    assert not [w for w in ("on its way", "will arrive", "the rest will follow") if w in body]
    assert "order_finding:partial_response" in trace.sensitive_reasons


# --- once per run, several at once ---------------------------------------------------------


def test_each_parcel_is_looked_up_once_per_run(brand, shopify, aftership):
    shopify_brand(brand, shopify, aftership)
    memo: dict = {}

    first = fetch_orders(context(brand, memo=memo), {}).data
    again = fetch_orders(context(brand, memo=memo), {"order_number": "1001"}).data
    one = fetch_orders(context(brand, memo=memo), {"tracking_number": "1z999aa10123456784"}).data

    assert len(aftership.tracking_requests()) == 3
    assert parcels(again)["JD014600006281230701"] == parcels(first)["JD014600006281230701"]
    assert parcels(one)["1Z999AA10123456784"]["carrier_tracking"]["status"] == "in_transit"


def test_three_parcels_take_about_as_long_as_one(brand, shopify, aftership):
    aftership.latency = 0.2
    shopify_brand(brand, shopify, aftership)

    started = time.monotonic()
    data = fetch_orders(context(brand), {}).data
    elapsed = time.monotonic() - started

    shipments = parcels(data)
    assert shipments["JD014600006281230701"]["carrier_tracking"]["status"] == "in_transit"
    assert shipments["1Z999AA10123456784"]["carrier_tracking"]["status"] == "in_transit"
    assert len(aftership.tracking_requests()) == 3
    assert elapsed < 0.45, elapsed  # well under 3 x 200 ms


# --- the tracking_number argument -----------------------------------------------------------


def test_the_schema_offers_an_optional_tracking_number():
    properties = FETCH_ORDERS.parameters["properties"]
    assert properties["tracking_number"]["type"] == "string"
    assert "required" not in FETCH_ORDERS.parameters


def test_a_tracking_number_on_the_customers_orders_returns_only_that_parcels_order(
    brand, shopify, aftership
):
    shopify_brand(brand, shopify, aftership)

    data = fetch_orders(context(brand), {"tracking_number": " 1z999aa10123456784 "}).data

    assert [o["number"] for o in data["orders"]] == ["1001"]
    ups = parcels(data)["1Z999AA10123456784"]
    assert ups["carrier_tracking"]["status"] == "in_transit"
    assert asked(aftership) == {"1Z999AA10123456784"}  # only that parcel


@pytest.mark.parametrize(
    "arguments",
    [
        {"tracking_number": BOBS_PARCEL},  # someone else's parcel, known to AfterShip's fake
        {"tracking_number": "DLV0001"},  # a parcel AfterShip tracks, on no order of Ana's
        {"tracking_number": "JD014600006281230701", "order_number": "1002"},  # not on #1002
        {"tracking_number": BOBS_PARCEL, "order_number": "1004"},  # Bob's order and parcel
    ],
)
def test_a_tracking_number_not_on_the_customers_orders_is_refused_before_any_carrier_call(
    brand, shopify, aftership, arguments
):
    shopify_brand(brand, shopify, aftership)

    with pytest.raises(ToolError) as error:
        fetch_orders(context(brand), arguments)

    assert error.value.code == "tracking_number_not_found"
    assert "not one of this customer's parcels" in error.value.message
    assert error.value.retryable is False
    assert aftership.requests == []


@pytest.mark.parametrize("value", [42, ["JD0146"], "A,B", "x"])
def test_a_tracking_number_that_is_not_one_is_invalid(brand, shopify, aftership, value):
    shopify_brand(brand, shopify, aftership)

    with pytest.raises(ToolError) as error:
        fetch_orders(context(brand), {"tracking_number": value})

    assert error.value.code == "invalid_arguments"
    assert aftership.requests == [] and shopify.requests == []


def test_a_tracking_number_alone_does_not_identify_a_customer(brand, shopify, aftership):
    shopify_brand(brand, shopify, aftership)
    stranger = CustomerFactory(brand=brand, email="", email_verified=False)
    ctx = ToolContext(
        brand=brand,
        ticket=TicketFactory(brand=brand, customer=stranger),
        customer=stranger,
        ticket_order_numbers=(),
        deadline=time.monotonic() + 5,
    )

    with pytest.raises(ToolError) as error:
        fetch_orders(ctx, {"tracking_number": "JD014600006281230701"})

    assert error.value.code == "missing_customer_context"
    assert aftership.requests == [] and shopify.requests == []


def test_a_hostile_model_asking_for_someone_elses_parcel_gets_a_refusal_and_no_carrier_call(
    brand, shopify, aftership, enable_fetch_orders, settings
):
    """Through the engine: a model that tries other people's tracking numbers, alone, with an
    email or with an order number, turn after turn, then dumps what it was told. The tool
    refuses the numbers that reach it; the engine refuses the rest before the tool runs."""
    from tests.copilot.agent.runs import limits, run
    from tests.fakes import openai_server as fake

    enable_fetch_orders(brand)
    shopify_brand(brand, shopify, aftership)
    steps = [
        [("fetch_orders", {"tracking_number": BOBS_PARCEL})],
        [("fetch_orders", {"tracking_number": "DLV0001"})],
        [("fetch_orders", {"tracking_number": BOBS_PARCEL, "customer_email": "bob@example.com"})],
        [("fetch_orders", {"tracking_number": BOBS_PARCEL, "order_number": "1004"})],
    ]

    def hostile(request: dict[str, Any]) -> fake.Reply:
        turns = sum(1 for m in request["messages"] if m["role"] == "assistant")
        if turns < len(steps):
            return fake.tool_calls(steps[turns])
        told = [m["content"] for m in fake.tool_result_messages(request)]
        return fake.text("Everything I was told: " + " ".join(told))

    customer = CustomerFactory(brand=brand, email="ana@example.com")
    ticket = TicketFactory(
        brand=brand, customer=customer, body=f"Where is parcel {BOBS_PARCEL}? My neighbour's."
    )
    with fake.OpenAIServer(hostile) as server:
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_MODEL = "fake-gpt"
        result = run(ticket, limits=limits(max_iterations=6))

    spans = result.trace.spans
    tool_errors = [s.error["code"] for s in spans if s.kind == "tool"]
    guardrails = {s.name for s in spans if s.kind == "guardrail"}
    assert tool_errors == ["tracking_number_not_found", "tracking_number_not_found"]
    assert {"unexpected_arguments", "order_number_not_in_ticket"} <= guardrails
    assert aftership.requests == []  # no carrier was ever asked
    assert "not one of this customer's parcels" in result.text
    assert "DPD" not in result.text and "delivered" not in result.text.lower()
