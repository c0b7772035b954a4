"""The ticket workspace: trace timeline in plain words, grounding highlights, live progress,
conflicts that lose nothing, and an exact query count, the same with 1 span and with 20."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.records import SpanData
from copilot import progress
from copilot.models import Draft, Role
from copilot.services import draft_generate, draft_request
from copilot.templatetags.copilot_tags import plain_error, source_line, unverified_segments
from tests.factories import DemoOrderFactory, DemoShipmentFactory, DraftFactory, TicketFactory
from tests.traces import grounding_span, record_trace, span, tool_span

pytestmark = pytest.mark.django_db


# --- done-point 3: the same number of queries with 1 span and with 20 ----------------------


# The session, its user, the ticket with its brand (checked against the user's memberships),
# its latest draft, the conversation, the trace, its spans, the previous and the next ticket.
WORKSPACE_QUERIES = 9


def _workspace_queries(client, draft: Draft) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ticket", args=[draft.ticket_id]))
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize(
    "database", [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_workspace_runs_the_same_queries_with_1_span_and_with_20(brand, member, database):
    # The PostgreSQL case runs in the half of the suite that points DATABASE_URL at it.
    assert connection.vendor == database
    agent, _ = member(brand)
    one = DraftFactory(ticket=TicketFactory(brand=brand))
    record_trace(one, [tool_span()])
    twenty = DraftFactory(ticket=TicketFactory(brand=brand))
    spans = [tool_span() if i % 2 else span("llm", "chat") for i in range(19)]
    record_trace(twenty, [*spans, grounding_span("grounded", [])])
    _workspace_queries(agent, one)  # warm the session and the content types

    with_one = _workspace_queries(agent, one)
    with_twenty = _workspace_queries(agent, twenty)

    assert twenty.trace.spans.count() == 20
    assert len(with_one) == len(with_twenty) == WORKSPACE_QUERIES, "\n".join(with_twenty)


def test_trace_panel_shows_a_timeline_with_key_value_rows_raw_json_and_durations(brand, member):
    agent, _ = member(brand)
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    record_trace(
        draft,
        [
            span("llm", "chat", result={"text": "", "tool_calls": [{"name": "fetch_orders"}]}),
            tool_span(duration_ms=87),
        ],
    )

    html = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()

    assert "decided to call fetch_orders" in html
    assert "<dt>arguments.order_number</dt><dd>NW-1</dd>" in html
    assert "<dt>result.orders[0].status</dt><dd>in_transit</dd>" in html
    assert "87 ms" in html and 'value="87"' in html
    assert "<summary>Raw data</summary>" in html and "&quot;order_number&quot;" in html


# --- plain words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            {"code": "missing_customer_context", "message": "x"},
            "fetch_orders blocked: no customer email or order number",
        ),
        ({"code": "repeated_call", "message": "x"}, "Repeated call refused"),
        ({"code": "loop_limit", "message": "x"}, "too many model turns"),
        ({"code": "ticket_truncated", "message": "x"}, "shortened"),
        ({"code": "tool_not_available", "message": "x"}, "not available"),
        ({"code": "shopify_throttled", "message": "Shopify asked us to slow down."}, "slow down"),
        ({"code": "odd_code"}, "odd_code"),
    ],
)
def test_safeguards_and_errors_read_in_plain_words(error, words):
    assert words in plain_error(error)


def test_blocked_fetch_orders_shows_the_plain_sentence_in_the_trace_panel(brand, member):
    agent, _ = member(brand)
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    record_trace(
        draft,
        [
            span(
                "guardrail",
                "missing_customer_context",
                status="blocked",
                error={"code": "missing_customer_context", "message": "raw engine text"},
            )
        ],
    )

    html = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()

    assert "fetch_orders blocked: no customer email or order number" in html


def test_source_line_names_the_order_system_and_the_time_it_was_read(brand, member, settings):
    settings.TIME_ZONE = "UTC"
    agent, _ = member(brand)
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    record_trace(draft, [tool_span()])

    html = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()

    assert source_line({"source": "Shopify", "read_at": "2026-11-26T10:42:07+00:00"}) == (
        "order data from Shopify, read at 10:42"
    )
    assert "Order data from Shopify, read at 10:42" in html
    assert source_line({}) == ""


# --- grounding -----------------------------------------------------------------------------


def test_unverified_text_is_highlighted_escaped_in_the_draft(brand, member):
    agent, _ = member(brand)
    body = "Your parcel <b>JD999</b> arrives Friday."
    start = body.index("<b>JD999</b>")
    draft = DraftFactory(ticket=TicketFactory(brand=brand), body=body)
    record_trace(
        draft,
        [
            grounding_span(
                "unverified",
                [
                    {
                        "start": start,
                        "end": start + 12,
                        "text": "<b>JD999</b>",
                        "kind": "tracking_number",
                    }
                ],
            )
        ],
        grounding="unverified",
    )

    html = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()

    assert 'class="badge grounding grounding-unverified"' in html
    assert '<mark title="Unverified tracking number">&lt;b&gt;JD999&lt;/b&gt;</mark>' in html
    assert "<b>JD999</b>" not in html


def test_malformed_or_stale_unverified_offsets_are_ignored():
    class Span:
        name = "grounding_check"
        result: dict[str, Any] = {}

    class Spans:
        def all(self):
            return [Span]

    class TraceStub:
        spans = Spans()

    body = "Order NW-1 ships Monday."
    Span.result = {
        "label": "unverified",
        "unverified": [
            {"start": 17, "end": 23, "text": "Monday"},
            {"start": 0, "end": 99, "text": "x"},  # out of range
            {"start": 6, "end": 10, "text": "WRONG"},  # text does not match
            {"start": 18, "end": 20},  # overlaps the first
            "junk",
        ],
    }

    segments = unverified_segments(body, TraceStub())

    assert [(s.text, s.flagged) for s in segments] == [
        ("Order NW-1 ships ", False),
        ("Monday", True),
        (".", False),
    ]
    Span.result = {"label": "grounded", "unverified": []}
    assert unverified_segments(body, TraceStub()) == []


@pytest.mark.parametrize("label", ["grounded", "generative", "unverified"])
def test_grounding_badge_shows_the_trace_label(brand, member, label):
    agent, _ = member(brand)
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    record_trace(draft, [grounding_span(label, [])], grounding=label)

    html = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()

    assert f"grounding-{label}" in html


# --- live progress -------------------------------------------------------------------------


def test_generating_draft_panel_lists_the_steps_recorded_so_far(brand, member):
    agent, _ = member(brand)
    draft = DraftFactory(ticket=TicketFactory(brand=brand), status=Draft.Status.GENERATING)
    progress.progress_record(
        draft_id=draft.pk,
        span=span("llm", "chat", result={"text": "", "tool_calls": [{"name": "fetch_orders"}]}),
    )

    html = agent.get(reverse("draft_panel", args=[draft.pk]), HTTP_HX_REQUEST="true").content
    html = html.decode()

    assert "Planned: call fetch_orders" in html
    assert "calling fetch_orders" in html  # what it is doing now
    assert 'hx-trigger="every 1s"' in html  # and it keeps polling

    progress.progress_record(draft_id=draft.pk, span=tool_span())
    html = agent.get(reverse("draft_panel", args=[draft.pk]), HTTP_HX_REQUEST="true").content
    assert "Called fetch_orders (order data from Shopify" in html.decode()
    assert "writing the reply" in html.decode()


def test_draft_generate_publishes_each_span_as_a_progress_step(
    brand, enable_fetch_orders, monkeypatch
):
    enable_fetch_orders(brand)
    order = DemoOrderFactory(brand=brand, number="NW-7007")
    DemoShipmentFactory(order=order)
    ticket = TicketFactory(brand=brand, customer=order.customer, body="Where is NW-7007?")
    draft = draft_request(ticket=ticket, enqueue=False)
    seen: list[list[str]] = []
    original = progress.progress_record

    def spy(*, draft_id: int, span: SpanData) -> None:
        original(draft_id=draft_id, span=span)
        seen.append([step["kind"] for step in progress.progress_steps(draft_id=draft_id)])

    monkeypatch.setattr(progress, "progress_record", spy)
    draft_generate(draft_id=draft.pk)

    assert seen == [
        ["llm"],
        ["llm", "tool"],
        ["llm", "tool", "llm"],
        ["llm", "tool", "llm", "guardrail"],  # the grounding check
    ]
    assert progress.progress_steps(draft_id=draft.pk) == []  # cleared once the trace is stored


# --- decisions and conflicts ---------------------------------------------------------------


def test_second_save_of_the_same_draft_shows_both_versions_and_keeps_mine(brand, member):
    draft = DraftFactory(ticket=TicketFactory(brand=brand), body="Original")
    first, first_user = member(brand)
    second, _ = member(brand, Role.LEAD)
    url = reverse("draft_decide", args=[draft.pk, "edit"])

    ok = first.post(url, {"version": 1, "text": "Theirs <i>wins</i>"}, HTTP_HX_REQUEST="true")
    clash = second.post(url, {"version": 1, "text": "Mine <u>too</u>"}, HTTP_HX_REQUEST="true")

    assert ok.status_code == 200
    assert clash.status_code == 409
    html = clash.content.decode()
    assert "Their version" in html and "Your version" in html
    assert "Theirs &lt;i&gt;wins&lt;/i&gt;" in html
    assert f"by {first_user.username}" in html
    assert (
        '<textarea id="draft-text" name="text" rows="10" data-key-edit>Mine &lt;u&gt;too&lt;/u&gt;'
        in html
    )
    draft.refresh_from_db()
    assert draft.final_text == "Theirs <i>wins</i>" and draft.version == 2


def test_conflict_without_javascript_renders_the_page_with_my_text_instead_of_redirecting(
    brand, member
):
    draft = DraftFactory(ticket=TicketFactory(brand=brand), body="Original")
    first, _ = member(brand)
    second, _ = member(brand)
    url = reverse("draft_decide", args=[draft.pk, "edit"])
    first.post(url, {"version": 1, "text": "First"})

    clash = second.post(url, {"version": 1, "text": "Second, carefully written"})

    assert clash.status_code == 409
    html = clash.content.decode()
    assert "Second, carefully written" in html and "Their version" in html
    assert "<h1" in html  # the whole workspace page, not a bare panel


def test_a_conflict_on_an_undecided_draft_can_be_resolved_by_saving_mine(brand, member):
    draft = DraftFactory(ticket=TicketFactory(brand=brand), body="Original", version=3)
    agent, _ = member(brand)
    url = reverse("draft_decide", args=[draft.pk, "edit"])

    clash = agent.post(url, {"version": 2, "text": "Mine"}, HTTP_HX_REQUEST="true")
    assert clash.status_code == 409 and "Save my version" in clash.content.decode()
    assert 'name="version" value="3"' in clash.content.decode()
    saved = agent.post(url, {"version": 3, "text": "Mine"}, HTTP_HX_REQUEST="true")

    assert saved.status_code == 200
    draft.refresh_from_db()
    assert draft.decision == Draft.Decision.EDITED and draft.final_text == "Mine"


def test_reject_needs_a_reason(brand, member):
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    agent, _ = member(brand)
    url = reverse("draft_decide", args=[draft.pk, "reject"])

    refused = agent.post(url, {"version": 1, "reason": "  "}, HTTP_HX_REQUEST="true")
    done = agent.post(url, {"version": 1, "reason": "Wrong order"}, HTTP_HX_REQUEST="true")

    assert refused.status_code == 400 and "why you reject" in refused.content.decode()
    assert done.status_code == 200
    draft.refresh_from_db()
    assert draft.decision == Draft.Decision.REJECTED and draft.reject_reason == "Wrong order"


@pytest.mark.parametrize("action", ["accept", "edit", "reject"])
def test_core_actions_work_as_plain_form_posts_without_javascript(brand, member, action):
    draft = DraftFactory(ticket=TicketFactory(brand=brand), body="Hello")
    agent, _ = member(brand)

    response = agent.post(
        reverse("draft_decide", args=[draft.pk, action]),
        {"version": 1, "text": "Hello there", "reason": "Off topic"},
    )

    assert response.status_code == 302
    assert response.url == reverse("ticket", args=[draft.ticket_id])
    draft.refresh_from_db()
    assert draft.decision == {"accept": "accepted", "edit": "edited", "reject": "rejected"}[action]


def test_workspace_links_the_next_and_previous_ticket_in_inbox_order(brand, member):
    agent, _ = member(brand)
    older, middle, newer = (TicketFactory(brand=brand) for _ in range(3))
    TicketFactory()  # another brand's ticket never shows up as a neighbour

    html = agent.get(reverse("ticket", args=[middle.pk])).content.decode()

    assert f'href="/tickets/{older.pk}/" rel="next"' in html
    assert f'href="/tickets/{newer.pk}/" rel="prev"' in html


def test_progress_never_fails_a_run_when_the_cache_is_down(monkeypatch):
    class Broken:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

        set = delete = get

    monkeypatch.setattr(progress, "cache", Broken())
    progress.progress_record(draft_id=1, span=span("llm", "chat"))
    assert progress.progress_steps(draft_id=1) == []
    progress.progress_clear(draft_id=1)  # and does not raise either
