"""The leads' review queue, verdicts, filters, keyset pages, and held sensitive drafts."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.exceptions import DraftHeld
from audit.models import Approval, AuditPolicy, Review
from audit.selectors import Cursor, TraceFilters, trace_list
from copilot.models import Draft, Role
from copilot.services import draft_accept, draft_edit, draft_reject
from tests.factories import BrandFactory, MembershipFactory
from tests.traces import span

pytestmark = pytest.mark.django_db

SENSITIVE = "I want a refund now"


def listed_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-trace="(\d+)">', response.content.decode())]


def test_queue_lists_exactly_the_sensitive_traces_of_the_leads_brands(member, make_trace):
    mine, also_mine, other = BrandFactory(), BrandFactory(), BrandFactory()
    client, lead = member(mine, Role.LEAD)
    MembershipFactory(user=lead, brand=also_mine, role=Role.ADMIN)
    expected = [
        make_trace(mine, body=SENSITIVE),
        make_trace(also_mine, grounding="unverified"),
        make_trace(mine, body="Mon avocat va vous écrire"),
    ]
    make_trace(mine, body="Where is my order?")  # not sensitive
    make_trace(other, body=SENSITIVE)  # sensitive, but another brand's

    response = client.get(reverse("audit_queue"))

    assert response.status_code == 200
    assert listed_ids(response) == [t.pk for t in reversed(expected)]
    only_mine = client.get(reverse("audit_queue"), {"brand": mine.slug})
    assert listed_ids(only_mine) == [expected[2].pk, expected[0].pk]


def test_an_agent_cannot_open_the_queue_the_lists_a_trace_review_or_metrics(
    brand, member, make_trace
):
    client, _ = member(brand, Role.AGENT)
    trace = make_trace(brand, body=SENSITIVE)

    assert client.get(reverse("audit_queue")).status_code == 404
    assert client.get(reverse("audit_traces")).status_code == 404
    assert client.get(reverse("audit_trace", args=[trace.pk])).status_code == 404
    assert client.get(reverse("audit_metrics", args=[brand.slug])).status_code == 404
    response = client.post(
        reverse("audit_review_create", args=[trace.pk]), {"verdict": "bad_answer"}
    )
    assert response.status_code == 404
    assert client.post(reverse("audit_draft_approve", args=[trace.pk])).status_code == 404
    assert not Review.objects.exists() and not Approval.objects.exists()


def test_a_lead_cannot_open_another_brands_trace(brand, member, make_trace):
    client, _ = member(BrandFactory(), Role.LEAD)
    trace = make_trace(brand, body=SENSITIVE)

    assert client.get(reverse("audit_trace", args=[trace.pk])).status_code == 404
    response = client.get(reverse("audit_metrics", args=[brand.slug]))
    assert response.status_code == 404


def test_lead_submits_verdicts_as_separate_rows_and_filters_by_the_latest(
    brand, member, make_trace
):
    client, _ = member(brand, Role.LEAD)
    trace = make_trace(brand, body=SENSITIVE)
    untouched = make_trace(brand, body=SENSITIVE)

    url = reverse("audit_review_create", args=[trace.pk])
    client.post(url, {"verdict": "tool_helped", "note": "first look"})
    response = client.post(url, {"verdict": "unnecessary_call", "note": "on second thought"})

    assert response.status_code == 302
    assert list(
        Review.objects.filter(trace=trace).order_by("id").values_list("verdict", "note")
    ) == [
        ("tool_helped", "first look"),
        ("unnecessary_call", "on second thought"),
    ]
    queue = reverse("audit_queue")
    assert listed_ids(client.get(queue, {"verdict": "unnecessary_call"})) == [trace.pk]
    assert listed_ids(client.get(queue, {"verdict": "tool_helped"})) == []
    assert listed_ids(client.get(queue, {"verdict": "unreviewed"})) == [untouched.pk]
    page = client.get(reverse("audit_trace", args=[trace.pk])).content.decode()
    assert "on second thought" in page and "first look" in page
    assert client.post(url, {"verdict": "nonsense"}).status_code == 400


def test_filters_on_the_trace_list(brand, member, make_trace):
    client, _ = member(brand, Role.LEAD)
    tool = span("tool", "fetch_orders", result={"orders": []})
    with_tool = make_trace(brand, spans=[span(), tool], tool_calls_count=1, grounding="grounded")
    control = make_trace(
        brand, plan={"arm": "control", "available_tools": []}, grounding="generative"
    )
    failed = make_trace(brand, outcome="failed", error_code="provider_unavailable")
    url = reverse("audit_traces")

    assert listed_ids(client.get(url, {"tool": "fetch_orders"})) == [with_tool.pk]
    assert listed_ids(client.get(url, {"tool": "none"})) == [failed.pk, control.pk]
    assert listed_ids(client.get(url, {"arm": "control"})) == [control.pk]
    assert listed_ids(client.get(url, {"outcome": "failed"})) == [failed.pk]
    assert listed_ids(client.get(url, {"grounding": "grounded"})) == [with_tool.pk]
    assert listed_ids(client.get(url, {"sensitive": "no"})) == [failed.pk, control.pk, with_tool.pk]
    today = timezone.now().date()
    assert listed_ids(client.get(url, {"date_from": today + dt.timedelta(days=1)})) == []
    assert len(listed_ids(client.get(url, {"date_from": today, "date_to": today}))) == 3


def test_keyset_pages_cover_every_trace_once_even_with_equal_timestamps(brand, make_trace):
    moment = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=moment):
        same_time = [make_trace(brand, body=SENSITIVE) for _ in range(5)]
    older = [make_trace(brand, body=SENSITIVE) for _ in range(2)]
    filters = TraceFilters(brand_ids=(brand.pk,), sensitive=True)

    seen, cursor = [], None
    while True:
        page = trace_list(filters, after=cursor, limit=3)
        seen += [t.pk for t in page.traces]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())

    expected = sorted(older, key=lambda t: -t.pk) + sorted(same_time, key=lambda t: -t.pk)
    assert seen == [t.pk for t in expected]


# The session, its user, the brands the lead audits, and one page of traces with all they show.
QUEUE_QUERIES = 4


def test_queue_page_runs_a_fixed_number_of_queries(
    brand, member, make_trace, django_assert_num_queries
):
    client, _ = member(brand, Role.LEAD)
    for _ in range(3):
        make_trace(brand, body=SENSITIVE)
    with django_assert_num_queries(QUEUE_QUERIES):
        client.get(reverse("audit_queue"))
    for _ in range(20):
        make_trace(brand, body=SENSITIVE)
    with django_assert_num_queries(QUEUE_QUERIES):
        client.get(reverse("audit_queue"))


# --- held drafts -----------------------------------------------------------------------------


@pytest.fixture
def held(brand, make_trace):
    AuditPolicy.objects.create(brand=brand, hold_sensitive_drafts=True)
    return make_trace(brand, body="Refund me or I call my lawyer")


def test_an_agent_cannot_send_a_held_draft_until_a_lead_approves(brand, member, held):
    agent_client, agent = member(brand, Role.AGENT)
    lead_client, _ = member(brand, Role.LEAD)
    draft = held.draft

    with pytest.raises(DraftHeld):
        draft_accept(draft=draft, user=agent, expected_version=draft.version)
    with pytest.raises(DraftHeld):
        draft_edit(draft=draft, user=agent, expected_version=draft.version, text="Changed")
    response = agent_client.post(
        reverse("draft_decide", args=[draft.pk, "accept"]),
        {"version": draft.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "waits for a lead" in response.content.decode()
    draft.refresh_from_db()
    assert draft.decision == ""

    lead_page = lead_client.get(reverse("audit_trace", args=[held.pk])).content.decode()
    assert "Approve draft for sending" in lead_page
    assert lead_client.post(reverse("audit_draft_approve", args=[held.pk])).status_code == 302

    sent = draft_accept(draft=draft, user=agent, expected_version=draft.version)
    assert sent.decision == Draft.Decision.ACCEPTED


def test_a_lead_may_send_a_held_draft_and_an_agent_may_reject_it(brand, member, held, make_trace):
    _, lead = member(brand, Role.LEAD)
    _, agent = member(brand, Role.AGENT)

    sent = draft_accept(draft=held.draft, user=lead, expected_version=held.draft.version)
    assert sent.decision == Draft.Decision.ACCEPTED

    other = make_trace(brand, body="Chargeback incoming")
    rejected = draft_reject(draft=other.draft, user=agent, expected_version=other.draft.version)
    assert rejected.decision == Draft.Decision.REJECTED


def test_without_the_hold_option_an_agent_sends_sensitive_drafts(brand, member, make_trace):
    _, agent = member(brand, Role.AGENT)
    trace = make_trace(brand, body=SENSITIVE)
    assert trace.sensitive

    sent = draft_accept(draft=trace.draft, user=agent, expected_version=trace.draft.version)

    assert sent.decision == Draft.Decision.ACCEPTED


def test_the_inbox_links_leads_not_agents_to_the_audit(brand, member):
    lead_client, _ = member(brand, Role.LEAD)
    agent_client, _ = member(brand, Role.AGENT)
    queue = reverse("audit_queue")

    assert queue in lead_client.get(reverse("inbox", args=[brand.slug])).content.decode()
    assert queue not in agent_client.get(reverse("inbox", args=[brand.slug])).content.decode()
