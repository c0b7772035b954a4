"""Order-data findings in the audit: kept through redaction (dates and parcels intact), a
stalled or contradictory order sends its ticket to the leads with a reason in words, and
every screen with a trace names the findings in plain words, codes only in the raw data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Trace
from audit.redaction import redact_spans
from copilot.models import Draft, Role
from copilot.services import ticket_ingest
from orders import quality
from tests.factories import DemoOrderFactory, DemoShipmentFactory, DemoTrackingEventFactory
from tests.traces import span, tool_span

EVIDENCE = [
    {
        "field": "last_scan",
        "source": "AfterShip",
        "value": "2026-11-30T08:12+00:00",
        "parcel": "0150123456",
    },
    {"field": "estimated_delivery", "source": "Shopify", "value": "2026-12-01"},
]


def order_with(*codes: str, **fields) -> dict:
    findings = [
        {
            "code": code,
            "severity": quality.SEVERITY[code],
            "message": f"Ask ana@example.com about it ({code}).",
            "evidence": EVIDENCE,
        }
        for code in codes
    ]
    return {"number": "NW-7", "status": "in_transit", "findings": findings, **fields}


def test_findings_survive_redaction_whatever_the_allow_list():
    spans = [tool_span(result={"orders": [order_with("no_movement", phone="+33 6 12 34 56 78")]})]

    stored = redact_spans(spans, frozenset({"number"}))[0].result["orders"][0]

    assert stored["status"] == "[redacted]" and stored["phone"] == "[redacted]"
    finding = stored["findings"][0]
    assert finding["code"] == "no_movement" and finding["severity"] == "warning"
    assert finding["evidence"] == EVIDENCE  # a date or a tracking number is not a phone
    assert finding["message"] == "Ask [email] about it (no_movement)."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codes", "reasons"),
    [
        (["no_movement"], ["order_finding:no_movement"]),
        (
            ["eta_passed", "missing_tracking"],
            ["order_finding:eta_passed", "order_finding:missing_tracking"],
        ),
        (["cancelled_but_fulfilled"], ["order_finding:cancelled_but_fulfilled"]),
        (["stale_data"], ["order_finding:stale_data"]),
        ([], []),
    ],
)
def test_an_order_with_a_finding_goes_to_the_leads(brand, make_trace, member, codes, reasons):
    trace = make_trace(brand, spans=[span(), tool_span(result={"orders": [order_with(*codes)]})])

    assert trace.sensitive is bool(reasons)
    assert trace.sensitive_reasons == reasons
    if reasons:
        client, _ = member(brand, Role.LEAD)
        queue = client.get(reverse("audit_queue")).content.decode()
        title = quality.TITLES[codes[0]].lower()  # in words, not as a code
        assert f"order data: {title}" in queue.replace("&#x27;", "'")
        assert "order_finding" not in queue and codes[0] not in queue


@pytest.fixture
def contradictory_run(brand, enable_fetch_orders) -> Trace:
    """A real run (rules provider, demo store and its carrier feed) on an order the shop
    says is on its way, that the carrier reports held up, and whose date has passed."""
    enable_fetch_orders(brand)
    order = DemoOrderFactory(
        brand=brand,
        number="NW-3100",
        customer__email="lea@example.com",
        estimated_delivery=timezone.localdate() - dt.timedelta(days=2),
    )
    shipment = DemoShipmentFactory(
        order=order,
        carrier="DPD",
        tracking_number="01501234567",
        carrier_status="delivery_exception",
    )
    DemoTrackingEventFactory(shipment=shipment, description="Address not found")
    result = ticket_ingest(
        brand=brand,
        external_id="lea-1",
        subject="Where is my parcel?",
        body="Hi, where is my order NW-3100?",
        customer_external_id="lea",
        customer_email="lea@example.com",
        customer_email_verified=True,
    )
    return Trace.objects.get(draft=Draft.objects.get(pk=result.draft.pk))


def outside_raw_data(html: str) -> str:
    return re.sub(r"<details>.*?</details>", "", html, flags=re.DOTALL)


@pytest.mark.django_db(transaction=True)
def test_every_trace_screen_names_the_findings_in_words(brand, member, contradictory_run):
    trace = contradictory_run
    agent, _ = member(brand, Role.AGENT)
    lead, _ = member(brand, Role.LEAD)
    pages = {
        "ticket": agent.get(reverse("ticket", args=[trace.ticket_id])),
        "trace": agent.get(reverse("trace", args=[trace.pk])),
        "review": lead.get(reverse("audit_trace", args=[trace.pk])),
    }

    for name, response in pages.items():
        html = response.content.decode().replace("&#x27;", "'")
        assert response.status_code == 200, name
        shown = outside_raw_data(html)
        assert "The shop and the carrier disagree on the parcel's status" in shown, name
        assert "The expected delivery date has passed" in shown, name
        assert (
            "Serious" in shown
            and "Demo carrier feed: status held up by a delivery problem" in shown
        )
        for code in quality.FINDING_CODES:
            assert code not in shown, (name, code)
        assert "findings[" not in shown and "evidence" not in shown.replace('class="evidence"', "")
        assert "status_conflict" in html  # the raw data keeps the codes
    ticket_page = outside_raw_data(pages["ticket"].content.decode()).replace("&#x27;", "'")
    assert "Check before sending:" in ticket_page
    assert "Order NW-3100: The shop and the carrier disagree on the parcel's status." in ticket_page
    assert "order data: the shop and the carrier disagree" in ticket_page  # the sensitive badge


def test_live_progress_counts_the_problems_found():
    from copilot.progress import step_from_span
    from copilot.templatetags.copilot_tags import step_words

    step = step_from_span(
        tool_span(attributes={"source": "Shopify", "findings": ["eta_passed", "no_movement"]})
    )

    assert step["findings"] == 2
    assert (
        step_words(step)
        == "Called fetch_orders (order data from Shopify; 2 problems in the order data)"
    )
