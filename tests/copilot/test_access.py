"""Nobody sees another brand's data: every brand-scoped URL is a 404 across brands."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.services import trace_record
from copilot.models import Role
from tests.factories import BrandFactory, DraftFactory, TicketFactory
from tests.traces import trace_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign():
    """Brand B's ticket, draft and trace."""
    other = BrandFactory()
    draft = DraftFactory(ticket=TicketFactory(brand=other))
    trace = trace_record(
        draft=draft,
        data=trace_data(),
    )
    return other, draft, trace


def test_agent_of_brand_a_gets_404_on_brand_b_ticket_draft_and_trace(brand, member, foreign):
    other, draft, trace = foreign
    agent, _ = member(brand, Role.ADMIN)
    ticket = draft.ticket

    urls = [
        ("get", reverse("inbox", args=[other.slug])),
        ("get", reverse("ticket", args=[ticket.pk])),
        ("get", reverse("draft_panel", args=[draft.pk])),
        ("get", reverse("trace", args=[trace.pk])),
        ("post", reverse("draft_decide", args=[draft.pk, "accept"])),
        ("post", reverse("ticket_regenerate", args=[ticket.pk])),
    ]
    for method, url in urls:
        response = getattr(agent, method)(url, {"version": 1} if method == "post" else None)
        assert response.status_code == 404, url

    draft.refresh_from_db()
    assert draft.decision == ""
    assert ticket.drafts.count() == 1


def test_own_brand_urls_answer(brand, member):
    draft = DraftFactory(
        ticket=TicketFactory(brand=brand, subject="Own-brand parcel"),
        status="ready",
        body="Own-brand draft body",
    )
    agent, _ = member(brand)

    inbox = agent.get(reverse("inbox", args=[brand.slug]))
    ticket = agent.get(reverse("ticket", args=[draft.ticket.pk]))
    panel = agent.get(reverse("draft_panel", args=[draft.pk]))

    assert inbox.status_code == ticket.status_code == panel.status_code == 200
    assert "Own-brand parcel" in inbox.content.decode()
    assert "Own-brand parcel" in ticket.content.decode()
    assert "Own-brand draft body" in panel.content.decode()


def test_anonymous_users_are_sent_to_login(client, brand):
    response = client.get(reverse("inbox", args=[brand.slug]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
