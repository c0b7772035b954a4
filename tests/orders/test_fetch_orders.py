"""fetch_orders end to end on Shopify and PrestaShop fakes: grounded drafts, every fault
handled honestly, the circuit breaker, per-run memoization and the field allow-list."""

from __future__ import annotations

import json
import time

import pytest
from django.test import TestCase
from django.urls import reverse

from audit.models import Span, Trace
from copilot import services as copilot_services
from copilot.models import Brand, Draft, Role
from copilot.tools import ToolContext, ToolError
from orders.models import OrderSource
from orders.tools import fetch_orders
from tests.factories import CustomerFactory, OrderSourceFactory, TicketFactory
from tests.fakes.prestashop import API_KEY
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db

LOOKUP_FAILED = "We could not read the status of your order right now."


def switch_source(client, brand, *, kind: str, url: str, secret: str, **extra) -> None:
    """What a brand admin does on the settings page."""
    response = client.post(
        reverse("order_source_settings", args=[brand.slug]),
        {
            "kind": kind,
            "shop_url": url,
            "secret": secret,
            "timeout_seconds": extra.get("timeout_seconds", 2),
            "allowed_fields": extra.get(
                "allowed_fields",
                ["number", "status", "status_label", "shipments", "estimated_delivery"],
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()


def ingest(brand, body: str, *, email: str = "ana@example.com", n: int = 1) -> Draft:
    """A ticket through the intake; its draft is queued on commit (run eagerly here), and the
    test's transaction commits nothing, so the commit's callbacks are run as it would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = copilot_services.ticket_ingest(
            brand=brand,
            external_id=f"t-{n}-{time.monotonic_ns()}",
            subject="Where is my order?",
            body=body,
            customer_external_id=email,
            customer_email=email,
            customer_email_verified=True,
        )
    draft = Draft.objects.get(pk=result.draft.pk)
    assert draft.status == Draft.Status.READY, draft.status_reason
    return draft


def tool_span(draft: Draft) -> Span:
    return Trace.objects.get(draft=draft).spans.get(kind=Span.Kind.TOOL)


# --- done-point 2: a brand switched to Shopify / PrestaShop is grounded in that system ------


def test_brand_switched_from_demo_to_shopify_gets_drafts_grounded_in_shopify(
    brand, member, enable_fetch_orders, shopify
):
    enable_fetch_orders(brand)
    admin, _ = member(brand, Role.ADMIN)
    switch_source(admin, brand, kind="shopify", url=shopify.shop_url, secret=TOKEN)

    draft = ingest(brand, "Hello, where is my order? It has not arrived.")

    assert "1001" in draft.body
    assert "DHL Express" in draft.body and "JD014600006281230701" in draft.body
    assert "2026-11-28" in draft.body
    span = tool_span(draft)
    assert span.status == Span.Status.OK
    assert span.result["source"] == "Shopify" and span.attributes["source"] == "Shopify"
    assert span.result["read_at"]
    assert [o["number"] for o in span.result["orders"]] == ["1001", "1002", "1003"]
    assert span.result["orders"][0]["shipments"][1]["tracking_number"] == "1Z999AA10123456784"
    assert len(shopify.graphql_requests()) == 1


def test_brand_switched_to_prestashop_gets_drafts_grounded_in_prestashop(
    brand, member, enable_fetch_orders, prestashop
):
    enable_fetch_orders(brand)
    admin, _ = member(brand, Role.ADMIN)
    switch_source(admin, brand, kind="prestashop", url=prestashop.shop_url, secret=API_KEY)

    draft = ingest(brand, "Bonjour, où est ma commande #XKBKNABJK ? Je ne l'ai pas reçue.")

    assert "XKBKNABJK" in draft.body
    assert "Colissimo" in draft.body and "6A18230004512" in draft.body
    span = tool_span(draft)
    assert span.result["source"] == "PrestaShop"
    assert span.result["orders"][0]["shipments"][0]["tracking_url"].endswith("code=6A18230004512")
    assert OrderSource.objects.get(brand=brand).kind == "prestashop"


def test_order_of_someone_else_answers_like_a_missing_one(brand, enable_fetch_orders, shopify):
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )

    draft = ingest(brand, "Where is my order #1004?")  # bob's order, asked by ana

    span = tool_span(draft)
    assert span.result["orders"] == []
    assert "DPD" not in draft.body and "0150123456" not in draft.body
    assert "could not find an order 1004" in draft.body


# --- done-point 3: every fault is a structured error span and an honest draft -------------

SHOPIFY_FAULTS = [
    ("401", "order_source_auth_failed"),
    ("500", "order_source_unavailable"),
    ("429", "order_source_throttled"),
    ("throttled", "order_source_throttled"),
    ("timeout", "order_source_timeout"),
    ("malformed", "order_source_bad_response"),
]


@pytest.mark.parametrize(("fault", "code"), SHOPIFY_FAULTS)
def test_every_shopify_fault_gives_an_error_span_and_an_honest_draft(
    brand, enable_fetch_orders, shopify, settings, fault, code
):
    settings.COPILOT_RUN_DEADLINE_SECONDS = 3.0
    settings.COPILOT_TOOL_TIMEOUT_SECONDS = 1.5
    shopify.restore_rate = 1.0  # a throttle that does not clear within the run
    shopify.retry_after = "30"
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand,
        kind="shopify",
        shop_url=shopify.shop_url,
        credentials={"access_token": TOKEN},
        timeout_seconds=0.5,
    )
    shopify.fail(fault, times=None)

    started = time.monotonic()
    draft = ingest(brand, "Where is my order?")
    elapsed = time.monotonic() - started

    span = tool_span(draft)
    assert span.status == Span.Status.ERROR
    assert span.error["code"] == code
    assert set(span.error) >= {"code", "message", "retryable"}
    assert LOOKUP_FAILED in draft.body
    for invented in ("1001", "DHL", "JD0146", "UPS", "in transit", "delivered"):
        assert invented not in draft.body
    trace = Trace.objects.get(draft=draft)
    assert trace.outcome == Trace.Outcome.ANSWERED
    assert trace.latency_ms < 3000 and elapsed < 3.5


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("401", "order_source_auth_failed"),
        ("500", "order_source_unavailable"),
        ("429", "order_source_throttled"),
        ("timeout", "order_source_timeout"),
        ("malformed", "order_source_bad_response"),
    ],
)
def test_every_prestashop_fault_gives_an_error_span_and_an_honest_draft(
    brand, enable_fetch_orders, prestashop, settings, fault, code
):
    settings.COPILOT_TOOL_TIMEOUT_SECONDS = 1.5
    prestashop.retry_after = "30"  # past the run's deadline: not waited for
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand,
        kind="prestashop",
        shop_url=prestashop.shop_url,
        credentials={"api_key": API_KEY},
        timeout_seconds=0.5,
    )
    prestashop.fail(fault, times=None)

    draft = ingest(brand, "Where is my order #XKBKNABJK?")

    span = tool_span(draft)
    assert span.status == Span.Status.ERROR and span.error["code"] == code
    assert LOOKUP_FAILED in draft.body
    assert "Colissimo" not in draft.body and "6A18230004512" not in draft.body
    assert Trace.objects.get(draft=draft).latency_ms < 3000


@pytest.mark.parametrize("vendor", ["shopify", "prestashop"])
def test_an_order_system_that_is_down_is_a_fast_structured_error(
    brand, enable_fetch_orders, settings, request, vendor
):
    fake = request.getfixturevalue(vendor)
    settings.COPILOT_TOOL_TIMEOUT_SECONDS = 1.5
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand,
        kind=vendor,
        shop_url=fake.shop_url,
        credentials={"access_token": TOKEN} if vendor == "shopify" else {"api_key": API_KEY},
        timeout_seconds=0.5,
    )
    fake.stop()

    started = time.monotonic()
    draft = ingest(brand, "Where is my order #XKBKNABJK?")

    span = tool_span(draft)
    assert span.status == Span.Status.ERROR
    assert span.error["code"] == "order_source_unavailable"
    assert LOOKUP_FAILED in draft.body
    assert time.monotonic() - started < 3.0  # refused at once, not waited on


# The tool thread may outlive the cut by a moment: it reads on a connection of its own.
@pytest.mark.django_db(transaction=True)
def test_slow_source_is_cut_at_the_run_deadline(brand, enable_fetch_orders, shopify, settings):
    """The source allows 10 s a call, but the run has 1 s left for the tool: 1 s it is."""
    settings.COPILOT_TOOL_TIMEOUT_SECONDS = 1.0
    shopify.hang_seconds = 5.0
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand,
        kind="shopify",
        shop_url=shopify.shop_url,
        credentials={"access_token": TOKEN},
        timeout_seconds=10,
    )
    shopify.fail("timeout", times=None)

    draft = ingest(brand, "Where is my order?")

    span = tool_span(draft)
    assert span.error["code"] == "order_source_timeout"
    assert 900 <= span.duration_ms < 2500  # cut near 1 s, not at the 5 s hang or 10 s limit
    assert LOOKUP_FAILED in draft.body


def test_open_circuit_skips_the_call_with_its_own_span(
    brand, enable_fetch_orders, shopify, settings
):
    settings.ORDERS_CIRCUIT_FAILURES = 2
    settings.ORDERS_HTTP_MAX_RETRIES = 0
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    shopify.fail("500", times=None)
    for n in range(2):
        assert tool_span(ingest(brand, "Where is my order?", n=n)).error["code"] == (
            "order_source_unavailable"
        )
    requests_before = len(shopify.requests)

    draft = ingest(brand, "Where is my order?", n=3)

    span = tool_span(draft)
    assert span.status == Span.Status.ERROR
    assert span.error["code"] == "order_source_circuit_open"
    assert len(shopify.requests) == requests_before  # no HTTP request was made
    assert LOOKUP_FAILED in draft.body


def test_unreadable_credentials_are_a_structured_error(brand, enable_fetch_orders, settings):
    enable_fetch_orders(brand)
    settings.COPILOT_ENCRYPTION_KEYS = ["old-key"]
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url="https://x.example", credentials={"access_token": "t"}
    )
    settings.COPILOT_ENCRYPTION_KEYS = ["another-key"]

    draft = ingest(brand, "Where is my order?")

    assert tool_span(draft).error["code"] == "secret_unreadable"
    assert LOOKUP_FAILED in draft.body


# --- no repeated lookups inside one run ----------------------------------------------------


def test_lookups_are_made_once_per_run(brand, shopify):
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    customer = CustomerFactory(brand=brand, email="ana@example.com")
    ticket = TicketFactory(brand=brand, customer=customer)
    memo: dict = {}

    def call(arguments: dict) -> dict:
        ctx = ToolContext(
            brand=brand,
            ticket=ticket,
            customer=customer,
            ticket_order_numbers=(),
            deadline=time.monotonic() + 5,
            memo=memo,
        )
        return fetch_orders(ctx, arguments).data

    recent = call({})
    by_number = call({"order_number": "#1002"})  # among the recent orders: no new request
    again = call({})

    assert len(shopify.requests) == 1
    assert by_number["orders"][0]["number"] == "1002"
    assert again == recent and by_number["read_at"] == recent["read_at"]
    call({"order_number": "1006"})  # not among them: read once, then remembered
    call({"order_number": "1006"})
    assert len(shopify.requests) == 2


def test_no_time_left_makes_no_request(brand, shopify):
    OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    customer = CustomerFactory(brand=brand, email="ana@example.com")
    ctx = ToolContext(
        brand=brand,
        ticket=TicketFactory(brand=brand, customer=customer),
        customer=customer,
        ticket_order_numbers=(),
        deadline=time.monotonic() - 1,
    )
    with pytest.raises(ToolError) as error:
        fetch_orders(ctx, {})
    assert error.value.code == "deadline_exceeded"
    assert shopify.requests == []


def run_context(brand_pk: int, customer) -> ToolContext:
    """A tool context as a draft run builds it: the source read with its brand, its
    credentials deferred."""
    brand = (
        Brand.objects.select_related("order_source")
        .defer("order_source__credentials")
        .get(pk=brand_pk)
    )
    return ToolContext(
        brand=brand,
        ticket=TicketFactory(brand=brand, customer=customer),
        customer=customer,
        ticket_order_numbers=(),
        deadline=time.monotonic() + 5,
    )


def test_source_saved_mid_run_is_read_whole_not_half_old(brand, shopify):
    source = OrderSourceFactory(
        brand=brand, kind="shopify", shop_url="https://old.invalid", credentials={}
    )
    customer = CustomerFactory(brand=brand, email="ana@example.com")
    ctx = run_context(brand.pk, customer)
    # The admin fixes the URL and the token while the draft waits on the model.
    OrderSource.objects.filter(pk=source.pk).update(shop_url=shopify.shop_url)
    source.credentials = {"access_token": TOKEN}
    source.save(update_fields=["credentials"])

    data = fetch_orders(ctx, {}).data

    assert data["orders"] and len(shopify.requests) == 1


def test_source_removed_mid_run_is_a_structured_error(brand, shopify):
    source = OrderSourceFactory(
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )
    customer = CustomerFactory(brand=brand, email="ana@example.com")
    ctx = run_context(brand.pk, customer)
    OrderSource.objects.filter(pk=source.pk).delete()

    with pytest.raises(ToolError) as error:
        fetch_orders(ctx, {})

    assert error.value.code == "order_source_not_configured"
    assert shopify.requests == []


# --- done-point 5: only allowed fields leave the connector ----------------------------------


def test_by_default_no_address_phone_payment_or_email_leaves_the_connector(
    brand, enable_fetch_orders, shopify, prestashop
):
    enable_fetch_orders(brand)
    OrderSourceFactory(  # the default allow-list
        brand=brand, kind="shopify", shop_url=shopify.shop_url, credentials={"access_token": TOKEN}
    )

    draft = ingest(brand, "Where is my order?")

    span = tool_span(draft)
    dumped = json.dumps(span.result, ensure_ascii=False) + draft.body
    for secret_field in ("shipping_address", "phone", "customer_email", "payment"):
        assert all(secret_field not in order for order in span.result["orders"])
    for leaked in ("Rue Secrète", "69001", "+33 6 12", "ana@example.com", "gid://"):
        assert leaked not in dumped
    # Findings go with every order whatever the allow-list (their evidence hides values).
    assert set(span.result["orders"][0]) - {"findings"} <= set(OrderSource().allowed_fields)
    # Personal fields are not even asked of Shopify.
    query = json.loads(shopify.graphql_requests()[0].body)["query"]
    assert "shippingAddress" not in query and "phone" not in query


def test_a_brand_that_allows_the_phone_gets_only_that_extra(brand, enable_fetch_orders, shopify):
    enable_fetch_orders(brand)
    OrderSourceFactory(
        brand=brand,
        kind="shopify",
        shop_url=shopify.shop_url,
        credentials={"access_token": TOKEN},
        allowed_fields=["number", "status", "phone"],
    )

    draft = ingest(brand, "Where is my order?")

    order = tool_span(draft).result["orders"][0]
    findings = order.pop("findings")
    assert order == {"number": "1001", "status": "in_transit", "phone": "+33 6 12 34 56 78"}
    # The late, stalled parcel is flagged without showing the hidden dates and scans.
    assert {f["code"] for f in findings} == {"no_movement", "eta_passed"}
    hidden = [e for f in findings for e in f["evidence"] if e["field"] != "status"]
    assert hidden and {e["value"] for e in hidden} == {"[hidden]"}
    query = json.loads(shopify.graphql_requests()[0].body)["query"]
    assert "phone" in query and "shippingAddress" not in query
