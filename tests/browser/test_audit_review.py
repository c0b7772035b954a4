"""A lead in a real browser: filter the review queue, open a trace, submit a verdict."""

from __future__ import annotations

import pytest

from audit.models import Review
from copilot.models import Role
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import BrandFactory, DraftFactory, MembershipFactory, UserFactory
from tests.traces import span, trace_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _trace(brand, subject: str, body: str, **overrides):
    from audit.services import trace_record

    draft = DraftFactory(ticket__brand=brand, ticket__subject=subject, ticket__body=body)
    return trace_record(draft=draft, data=trace_data(**overrides))


def test_lead_filters_the_queue_opens_a_trace_and_submits_a_verdict(page):
    north, south = BrandFactory(name="Northwind"), BrandFactory(name="Southwind")
    lead = UserFactory()
    MembershipFactory(user=lead, brand=north, role=Role.LEAD)
    MembershipFactory(user=lead, brand=south, role=Role.LEAD)
    tool = span(
        "tool", "fetch_orders", result={"orders": [{"number": "NW-9", "status": "delivered"}]}
    )
    target = _trace(
        north,
        "Refund for NW-9",
        "I want a refund for order NW-9",
        spans=[span(), tool],
        tool_calls_count=1,
        tools_used=["fetch_orders"],
        grounding="grounded",
    )
    _trace(south, "Lawyer letter", "My lawyer will contact you")
    _trace(north, "Where is my order?", "Just asking")  # not sensitive: never in the queue

    log_in(page, lead)
    page.goto("/audit/queue/")
    assert page.locator("tr[data-trace]").count() == 2

    page.get_by_label("Brand").select_option(north.slug)
    page.get_by_label("Tool").select_option("fetch_orders")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tr[data-trace]")
    rows.first.wait_for()
    assert rows.count() == 1
    assert "Refund for NW-9" in rows.first.inner_text()

    page.get_by_role("link", name=f"#{target.pk}").click()
    page.locator("#trace-panel").get_by_text("fetch_orders").first.wait_for()
    page.get_by_label("The tool helped").check()
    page.get_by_label("Note").fill("Order status was right.")
    page.get_by_role("button", name="Save verdict").click()

    page.locator("#review-panel ol.reviews").get_by_text("Order status was right.").wait_for()
    page.screenshot(path=str(artifacts_dir() / "audit-review.png"), full_page=True)
    review = Review.objects.get(trace=target)
    assert (review.verdict, review.note, review.reviewer_id) == (
        "tool_helped",
        "Order status was right.",
        lead.pk,
    )


def test_lead_reads_the_metrics_chart_and_ab_report(page):
    import datetime as dt

    from audit.services import rollup_refresh

    brand = BrandFactory(name="Northwind")
    lead = UserFactory()
    MembershipFactory(user=lead, brand=brand, role=Role.LEAD)
    for arm in ("treatment", "control", "treatment"):
        _trace(brand, "Where is my order?", "Hello", plan={"arm": arm})
    rollup_refresh(brand_id=brand.pk, day=dt.datetime.now(dt.UTC).date())

    log_in(page, lead)
    page.goto(f"/audit/b/{brand.slug}/metrics/")

    page.get_by_text("Not enough data yet").wait_for()
    assert page.locator("svg.chart rect").count() == 8  # 2 arms x 4 decision states
    assert page.locator('td[data-metric="drafts"][data-arm="all"]').first.inner_text() == "3"
    page.screenshot(path=str(artifacts_dir() / "audit-metrics.png"), full_page=True)
