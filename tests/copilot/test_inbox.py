"""The inbox: filters from the URL, search, keyset pages, counts, and polling that backs off."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from copilot import selectors
from copilot.models import Draft
from tests.factories import CustomerFactory, DraftFactory, TicketFactory
from tests.traces import record_trace, span

pytestmark = pytest.mark.django_db


def subjects(response) -> list[str]:
    return [t.subject for t in response.context["page"].tickets]


@pytest.fixture
def inbox(brand):
    """Five tickets, one per state of their latest draft, newest last."""
    ready = TicketFactory(brand=brand, subject="ready one")
    # An older, rejected draft of the same ticket does not count: only the latest one does.
    DraftFactory(ticket=ready, decision="rejected")
    DraftFactory(ticket=ready)
    pending = DraftFactory(
        ticket=TicketFactory(brand=brand, subject="pending one"), status=Draft.Status.PENDING
    ).ticket
    decided = DraftFactory(
        ticket=TicketFactory(brand=brand, subject="decided one"), decision="accepted"
    ).ticket
    sensitive = DraftFactory(
        ticket=TicketFactory(brand=brand, subject="sensitive decided"), decision="edited"
    )
    record_trace(sensitive, [span("llm", "chat")], sensitive=True)
    failed = DraftFactory(
        ticket=TicketFactory(
            brand=brand,
            subject="failed one",
            customer=CustomerFactory(brand=brand, name="Zoë Quill", email="zq@example.com"),
            body="My parcel with the blue umbrella never came",
        ),
        status=Draft.Status.FAILED,
    ).ticket
    TicketFactory(subject="other brand ready one")  # never shown
    return {"ready": ready, "pending": pending, "decided": decided, "failed": failed}


FILTER_CASES = [
    ("", ["failed one", "sensitive decided", "decided one", "pending one", "ready one"]),
    ("?status=ready", ["ready one"]),
    ("?status=pending", ["pending one"]),
    ("?status=decided", ["sensitive decided", "decided one"]),
    ("?status=failed", ["failed one"]),
    ("?review=1", ["failed one", "sensitive decided", "pending one", "ready one"]),
    ("?status=decided&review=1", ["sensitive decided"]),
    ("?q=READY", ["ready one"]),
    ("?q=quill", ["failed one"]),
    ("?q=zq@example", ["failed one"]),
    ("?q=blue umbrella", ["failed one"]),
    ("?q=nothing-matches", []),
    (
        "?status=bogus&review=maybe&before=x",
        ["failed one", "sensitive decided", "decided one", "pending one", "ready one"],
    ),
]


@pytest.mark.parametrize(("query", "expected"), FILTER_CASES)
def test_filters_and_search_narrow_the_inbox(brand, member, inbox, query, expected):
    agent, _ = member(brand)

    response = agent.get(reverse("inbox", args=[brand.slug]) + query)

    assert response.status_code == 200
    assert subjects(response) == expected


@pytest.mark.postgres
def test_filters_search_and_counts_on_postgresql(brand, member, inbox):
    agent, _ = member(brand)
    url = reverse("inbox", args=[brand.slug])

    for query, expected in FILTER_CASES:
        assert subjects(agent.get(url + query)) == expected, query
    assert agent.get(url).context["page"].counts["review"] == 4


def test_counts_follow_the_latest_draft_of_each_ticket(brand, member, inbox):
    DraftFactory(ticket=inbox["decided"], status=Draft.Status.GENERATING)  # regenerated
    agent, _ = member(brand)

    counts = agent.get(reverse("inbox", args=[brand.slug])).context["page"].counts

    assert counts == {
        "all": 5,
        "pending": 2,
        "ready": 1,
        "decided": 1,
        "failed": 1,
        "review": 5,  # the regenerated one is undecided again
    }


def test_keyset_pages_walk_every_ticket_once_in_order(brand, member, monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_PAGE_SIZE", 3)
    tickets = [DraftFactory(ticket=TicketFactory(brand=brand)).ticket for _ in range(7)]
    agent, _ = member(brand)
    url, seen = reverse("inbox", args=[brand.slug]) + "?status=ready", []

    while url:
        response = agent.get(url)
        seen += [t.pk for t in response.context["page"].tickets]
        match = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
        url = match.group(1).replace("&amp;", "&") if match else ""
        assert not url or "status=ready" in url  # the filter travels with the cursor

    assert seen == sorted((t.pk for t in tickets), reverse=True)


# The session, its user, the user's memberships, the page of tickets with their latest
# drafts, the counts' cache key (the newest ticket and the newest draft), the counts, the
# ticket total, and the memberships again for the brand menu.
INBOX_QUERIES = 9


def test_inbox_queries_do_not_grow_with_the_page(brand, member, django_assert_num_queries):
    agent, _ = member(brand)
    url = reverse("inbox", args=[brand.slug])
    DraftFactory(ticket=TicketFactory(brand=brand))
    agent.get(url)
    cache.clear()  # both measured requests count afresh
    with django_assert_num_queries(INBOX_QUERIES):
        agent.get(url)
    for _ in range(10):
        DraftFactory(ticket=TicketFactory(brand=brand))
    cache.clear()
    with django_assert_num_queries(INBOX_QUERIES):
        agent.get(url)
    # Counts cached (COPILOT_INBOX_COUNTS_SECONDS): neither the counts nor the total are read.
    with django_assert_num_queries(INBOX_QUERIES - 2):
        agent.get(url)


def test_counts_show_new_tickets_at_once_and_decisions_within_the_cache_time(brand, settings):
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    assert selectors.inbox_counts(brand)["ready"] == 1

    DraftFactory(ticket=TicketFactory(brand=brand))
    assert selectors.inbox_counts(brand)["ready"] == 2  # a new ticket changes the key

    Draft.objects.filter(pk=draft.pk).update(decision="accepted")
    assert selectors.inbox_counts(brand)["ready"] == 2  # cached for a few seconds
    assert selectors.inbox_counts_uncached(brand)["ready"] == 1
    cache.clear()
    assert selectors.inbox_counts(brand)["ready"] == 1


def poll(agent, url: str, **params: str):
    return agent.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-rows")


def next_poll(response) -> int:
    """The interval the rows partial asks htmx to poll again after."""
    return int(re.search(r'hx-trigger="every (\d+)s"', response.content.decode()).group(1))


def test_polling_backs_off_while_nothing_changes_and_snaps_back_when_something_does(brand, member):
    DraftFactory(ticket=TicketFactory(brand=brand))
    agent, _ = member(brand)
    url = reverse("inbox", args=[brand.slug])
    first = agent.get(url)
    stamp, seconds = first.context["page"].stamp, first.context["poll_seconds"]
    assert seconds == 2

    intervals = []
    for _ in range(7):
        response = poll(agent, url, poll=str(seconds), stamp=stamp)
        assert "<html" not in response.content.decode()  # just the rows partial
        seconds = next_poll(response)
        intervals.append(seconds)
    assert intervals == [4, 8, 16, 32, 60, 60, 60]

    new = TicketFactory(brand=brand, subject="Brand new question")
    DraftFactory(ticket=new)
    response = poll(agent, url, poll=str(seconds), stamp=stamp)

    assert next_poll(response) == 2
    assert "Brand new question" in response.content.decode()


def test_polling_stays_fast_while_a_draft_is_being_written(brand, member):
    DraftFactory(ticket=TicketFactory(brand=brand), status=Draft.Status.GENERATING)
    agent, _ = member(brand)
    url = reverse("inbox", args=[brand.slug])
    stamp = agent.get(url).context["page"].stamp

    response = poll(agent, url, poll="32", stamp=stamp)

    assert next_poll(response) == 2


def test_older_pages_do_not_poll(brand, member):
    DraftFactory(ticket=TicketFactory(brand=brand))
    agent, _ = member(brand)

    response = agent.get(reverse("inbox", args=[brand.slug]) + "?before=999999")

    assert "hx-trigger" not in response.content.decode()
