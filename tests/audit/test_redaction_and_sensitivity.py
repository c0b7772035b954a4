"""What a trace keeps of personal data, and which runs are marked sensitive."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import AuditPolicy, Span
from audit.redaction import REDACTED, mask_text
from audit.sensitivity import amounts_in, keywords_in
from copilot.models import Brand, Draft
from copilot.services import ticket_ingest
from orders.schema import DEFAULT_ALLOWED_FIELDS
from tests.factories import (
    CustomerFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    OrderSourceFactory,
)
from tests.traces import span

pytestmark = pytest.mark.django_db


def _order(**extra):
    return {
        "number": "NW-1",
        "status": "in_transit",
        "total": "49.00",
        "customer_email": "ana@example.com",
        "phone": "+33 6 12 34 56 78",
        "shipping_address": "12 rue de la Paix, Paris",
        "shipments": [
            {
                "carrier": "DHL",
                "tracking_number": "1234567890",
                "events": [
                    {
                        "description": "Driver: call ana@example.com or 06 12 34 56 78",
                        "location": "Lyon",
                    }
                ],
            }
        ],
        **extra,
    }


def test_fields_outside_the_allow_list_and_contact_data_in_free_text_are_masked(brand, make_trace):
    OrderSourceFactory(brand=brand, allowed_fields=list(DEFAULT_ALLOWED_FIELDS))
    tool = span(
        "tool",
        "fetch_orders",
        arguments={"order_number": "NW-1"},
        result={"orders": [_order()], "message": "Reach me at bob@example.org"},
    )

    trace = make_trace(brand, spans=[span(), tool], tool_calls_count=1)

    stored = trace.spans.get(kind=Span.Kind.TOOL).result
    order = stored["orders"][0]
    assert order["customer_email"] == REDACTED
    assert order["phone"] == REDACTED
    assert order["shipping_address"] == REDACTED
    assert order["number"] == "NW-1" and order["total"] == "49.00"
    # A ten-digit tracking number is data, not a phone number.
    assert order["shipments"][0]["tracking_number"] == "1234567890"
    event = order["shipments"][0]["events"][0]
    assert event["description"] == "Driver: call [email] or [phone]"
    assert event["location"] == "Lyon"
    assert stored["message"] == "Reach me at [email]"
    assert "ana@example.com" not in str(trace.spans.values_list("result", flat=True))


def test_the_carrier_s_dates_are_kept_and_its_free_text_masked(brand, make_trace):
    carrier = {
        "source": "AfterShip",
        "checked_at": "2026-12-07T10:42:00+00:00",
        "status": "delivery_exception",
        "status_detail": "Exception: call 06 12 34 56 78",
        "expected_delivery": "2026-12-09",
        "events": [],
        "error": "",
    }
    order = _order()
    order["shipments"][0]["carrier_tracking"] = carrier
    tool = span("tool", "fetch_orders", result={"orders": [order]})

    trace = make_trace(brand, spans=[span(), tool], tool_calls_count=1)

    stored = trace.spans.get(kind=Span.Kind.TOOL).result["orders"][0]["shipments"][0]
    kept = stored["carrier_tracking"]
    assert kept["expected_delivery"] == "2026-12-09"
    assert kept["checked_at"] == "2026-12-07T10:42:00+00:00"
    assert kept["status_detail"] == "Exception: call [phone]"


def test_contact_fields_the_brand_allows_are_kept(brand, make_trace):
    OrderSourceFactory(
        brand=brand, allowed_fields=[*DEFAULT_ALLOWED_FIELDS, "customer_email", "phone"]
    )
    tool = span("tool", "fetch_orders", result={"orders": [_order()]})

    trace = make_trace(brand, spans=[tool], tool_calls_count=1)

    order = trace.spans.get().result["orders"][0]
    assert order["customer_email"] == "ana@example.com"
    assert order["phone"] == "+33 6 12 34 56 78"
    assert order["shipping_address"] == REDACTED


def test_a_trace_is_stored_when_the_source_credentials_cannot_be_read(brand, make_trace, settings):
    OrderSourceFactory(
        brand=brand, allowed_fields=["number", "phone"], credentials={"access_token": "t"}
    )
    settings.COPILOT_ENCRYPTION_KEYS = ["a-key-the-secret-was-not-written-with"]
    tool = span("tool", "fetch_orders", result={"orders": [_order()]})

    trace = make_trace(Brand.objects.get(pk=brand.pk), spans=[tool], tool_calls_count=1)

    order = trace.spans.get().result["orders"][0]
    assert order["phone"] == "+33 6 12 34 56 78" and order["status"] == REDACTED


@pytest.mark.django_db(transaction=True)
def test_a_real_run_stores_tracking_text_without_the_phone_number(brand, enable_fetch_orders):
    enable_fetch_orders(brand)
    order = DemoOrderFactory(brand=brand, number="NW-7001", customer__email="ana@example.com")
    shipment = DemoShipmentFactory(order=order, carrier="DHL", tracking_number="JD7001")
    DemoTrackingEventFactory(shipment=shipment, description="Courier will phone +44 20 7946 0958")

    result = ticket_ingest(
        brand=brand,
        external_id="r-1",
        subject="Where is my order NW-7001?",
        body="Hello, where is my order NW-7001?",
        customer_external_id="ana",
        customer_email="ana@example.com",
        customer_email_verified=True,
    )

    draft = Draft.objects.get(pk=result.draft.pk)
    tool_span = draft.trace.spans.get(kind=Span.Kind.TOOL)
    events = tool_span.result["orders"][0]["shipments"][0]["events"]
    assert events[0]["description"] == "Courier will phone [phone]"
    assert tool_span.result["orders"][0]["shipments"][0]["tracking_number"] == "JD7001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+x@mail.example.co.uk now", "write to [email] now"),
        ("call (555) 010-0199", "call [phone]"),
        ("ship to 1 Secret Street, Springfield", "ship to [address], Springfield"),
        ("livrer au 12 bis rue des Lilas, Paris", "livrer au [address], Paris"),
        ("order DEMO-1042 totals 49.00 EUR", "order DEMO-1042 totals 49.00 EUR"),
    ],
)
def test_mask_text(text, expected):
    assert mask_text(text) == expected


# --- sensitivity ------------------------------------------------------------------------------


def test_keywords_match_in_english_and_french_whatever_the_case_and_accents():
    words = ["refund", "remboursement", "avocat", "rétrofacturation", "sue"]
    assert keywords_in("I want a REFUNDED order", words) == ["refund"]
    assert keywords_in("Mon avocat demande une retrofacturation", words) == [
        "avocat",
        "rétrofacturation",
    ]
    assert keywords_in("Remboursement svp", words) == ["remboursement"]
    assert keywords_in("I pursue my order", words) == []


def test_amounts_are_read_in_both_notations():
    assert amounts_in("I paid €1 200,50 and $45 and 300 euros, order 1042") == [
        Decimal("1200.50"),
        Decimal("45.0"),
        Decimal("300.0"),
    ]


@pytest.mark.parametrize(
    ("overrides", "body", "reason"),
    [
        ({}, "I will call my lawyer about this", "keyword:lawyer"),
        ({}, "Je veux un remboursement", "keyword:remboursement"),
        ({}, "I paid €750 for this", "amount_over_threshold:750.0"),
        (
            {"spans": [span("tool", "fetch_orders", result={"orders": [{"total": "900.00"}]})]},
            "Where is it?",
            "amount_over_threshold:900.00",
        ),
        (
            {"spans": [span("tool", "fetch_orders", status="error", error={"code": "x"})]},
            "Where is it?",
            "tool_error",
        ),
        (
            {"spans": [span("guardrail", "repeated_call", status="blocked")]},
            "Where is it?",
            "safeguard_fired",
        ),
        ({"grounding": "unverified"}, "Where is it?", "unverified_facts"),
    ],
)
def test_each_rule_marks_the_trace_sensitive(brand, make_trace, overrides, body, reason):
    trace = make_trace(brand, body=body, **overrides)

    assert trace.sensitive
    assert trace.sensitive_reasons == [reason]


def test_vip_customers_and_ordinary_tickets(brand, make_trace):
    AuditPolicy.objects.create(brand=brand, vip_customers=["VIP@Example.com"])
    vip = CustomerFactory(brand=brand, email="vip@example.com")

    assert make_trace(brand, customer=vip).sensitive_reasons == ["vip_customer"]
    ordinary = make_trace(brand, body="Hi, where is my order? I paid €20.")
    assert not ordinary.sensitive and ordinary.sensitive_reasons == []


def test_a_brand_can_switch_rules_off(brand, make_trace):
    AuditPolicy.objects.create(
        brand=brand, keywords=[], amount_threshold=None, flag_unverified=False
    )

    trace = make_trace(brand, body="Refund €9000 or my lawyer calls", grounding="unverified")

    assert not trace.sensitive
