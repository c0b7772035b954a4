"""Reads of the agent's desk: the inbox and the workspace of one ticket, with each draft's
trace. Loading a brand-scoped object for a user goes through `copilot.access`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import QueryDict

from audit.models import Span, Trace
from copilot.conf import conf
from copilot.models import Brand, Draft, Message, Ticket

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

INBOX_PAGE_SIZE = 50


class LatestDraftState(TypedDict):
    """What the inbox adds to each ticket: its latest draft's state (None without a draft)."""

    draft_status: str | None
    draft_decision: str | None
    draft_sensitive: bool | None


InboxTicket: TypeAlias = "WithAnnotations[Ticket, LatestDraftState]"


STATUS_FILTERS: dict[str, str] = {
    "pending": "Being written",
    "ready": "Ready to review",
    "decided": "Decided",
    "failed": "Failed or blocked",
}


@dataclass(frozen=True)
class InboxFilters:
    """What the agent narrowed the inbox to; every field comes from the URL."""

    status: str = ""
    review: bool = False
    q: str = ""
    before: int | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> InboxFilters:
        """Parse the inbox query string; unknown or malformed values are ignored."""
        status = query.get("status", "")
        before = query.get("before", "")
        return cls(
            status=status if status in STATUS_FILTERS else "",
            review=query.get("review") == "1",
            q=query.get("q", "").strip()[:100],
            before=int(before) if before.isdigit() else None,
        )

    def query(self, **changes: Any) -> str:
        """The query string for these filters with `changes` applied (for links)."""
        values = {"status": self.status, "review": "1" if self.review else "", "q": self.q}
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class InboxPage:
    tickets: list[InboxTicket]
    has_more: bool
    counts: dict[str, int]
    stamp: str

    @property
    def next_before(self) -> int | None:
        return self.tickets[-1].pk if self.has_more else None

    @property
    def any_open(self) -> bool:
        return any(t.draft_status in Draft.OPEN_STATUSES for t in self.tickets)


def _search(q: str, *, ticket: str = "") -> Q:
    """Subject, customer name or email, or any message body contains `q` (any case)."""
    return (
        Q(**{f"{ticket}subject__icontains": q})
        | Q(**{f"{ticket}customer__name__icontains": q})
        | Q(**{f"{ticket}customer__email__icontains": q})
        | Q(Exists(Message.objects.filter(ticket=OuterRef(f"{ticket}pk"), body__icontains=q)))
    )


def _latest_drafts(brand: Brand) -> QuerySet[Draft]:
    """Each of the brand's tickets' latest draft (drafts are created in id order)."""
    newer = Draft.objects.filter(ticket_id=OuterRef("ticket_id"), pk__gt=OuterRef("pk"))
    return Draft.objects.filter(ticket__brand=brand).exclude(Exists(newer)).order_by()


def _all_tickets(brand: Brand, filters: InboxFilters, limit: int) -> list[InboxTicket]:
    """The unfiltered inbox: tickets first (a ticket without a draft still shows)."""
    draft = Draft.objects.filter(pk=OuterRef("latest_draft_id")).order_by()
    tickets = (
        Ticket.objects.filter(brand=brand)
        .select_related("customer")
        .annotate(
            latest_draft_id=Subquery(
                Draft.objects.filter(ticket=OuterRef("pk")).order_by("-id").values("id")[:1]
            )
        )
        .annotate(
            draft_status=Subquery(draft.values("status")[:1]),
            draft_decision=Subquery(draft.values("decision")[:1]),
            draft_sensitive=Subquery(
                Trace.objects.filter(draft_id=OuterRef("latest_draft_id")).values("sensitive")[:1]
            ),
        )
        .order_by("-id")
    )
    if filters.q:
        tickets = tickets.filter(_search(filters.q))
    if filters.before is not None:
        tickets = tickets.filter(pk__lt=filters.before)
    return list(tickets[:limit])


# The inbox's states of a ticket's latest draft: one definition for its filters and counts.
DRAFT_STATES: dict[str, Q] = {
    "pending": Q(status__in=Draft.OPEN_STATUSES),
    "ready": Q(status=Draft.Status.READY, decision=""),
    "decided": ~Q(decision=""),
    "failed": Q(status__in=(Draft.Status.FAILED, Draft.Status.BLOCKED)),
}
NEEDS_REVIEW = Q(trace__sensitive=True) | Q(decision="")


def _tickets_by_draft(brand: Brand, filters: InboxFilters, limit: int) -> list[InboxTicket]:
    """The inbox narrowed by the latest draft's state: driven from the drafts, so the
    database walks the draft index newest first and stops at a full page."""
    drafts = (
        _latest_drafts(brand)
        .select_related("ticket__customer")
        .annotate(trace_sensitive=F("trace__sensitive"))
    )
    if filters.status in DRAFT_STATES:
        drafts = drafts.filter(DRAFT_STATES[filters.status])
    if filters.review:
        drafts = drafts.filter(NEEDS_REVIEW)
    if filters.q:
        drafts = drafts.filter(_search(filters.q, ticket="ticket__"))
    if filters.before is not None:
        drafts = drafts.filter(ticket_id__lt=filters.before)
    tickets: list[InboxTicket] = []
    for draft in drafts.order_by("-ticket_id")[:limit]:
        ticket = cast("InboxTicket", draft.ticket)  # made one by the two lines below
        ticket.draft_status, ticket.draft_decision = draft.status, draft.decision
        ticket.draft_sensitive = draft.trace_sensitive
        tickets.append(ticket)
    return tickets


def inbox_counts(brand: Brand) -> dict[str, int]:
    """How many of the brand's tickets are in each state of their latest draft.

    Counting walks every ticket of the brand, so the result is cached for
    `COPILOT_INBOX_COUNTS_SECONDS` under a key that changes with the newest ticket and the
    newest draft: a new ticket or a regenerated draft shows at once, a decision or a
    finished draft within those seconds. The rows of the inbox are always read fresh.
    """
    newest_ticket = (
        Ticket.objects.filter(brand=brand).order_by("-pk").values_list("pk", flat=True).first()
    )
    newest_draft = (
        Draft.objects.filter(ticket__brand=brand)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    key = f"copilot:inbox-counts:{brand.pk}:{newest_ticket}:{newest_draft}"
    counts = cache.get(key)
    if counts is None:
        counts = inbox_counts_uncached(brand)
        cache.set(key, counts, conf.COPILOT_INBOX_COUNTS_SECONDS)
    return counts


def inbox_counts_uncached(brand: Brand) -> dict[str, int]:
    """`inbox_counts` straight from the database."""
    counts = _latest_drafts(brand).aggregate(
        **{state: Count("pk", filter=condition) for state, condition in DRAFT_STATES.items()},
        review=Count("pk", filter=NEEDS_REVIEW),
    )
    counts["all"] = Ticket.objects.filter(brand=brand).count()
    return counts


def inbox_for_brand(brand: Brand, filters: InboxFilters | None = None) -> InboxPage:
    """A page of the brand's tickets, newest first, keyset-paginated by id, each annotated
    with its latest draft's status, decision and sensitivity; plus counts per state and a
    stamp that changes whenever anything shown changes (for polling back-off)."""
    filters = filters or InboxFilters()
    by_draft = bool(filters.status or filters.review)
    rows = (_tickets_by_draft if by_draft else _all_tickets)(brand, filters, INBOX_PAGE_SIZE + 1)
    tickets, has_more = rows[:INBOX_PAGE_SIZE], len(rows) > INBOX_PAGE_SIZE
    counts = inbox_counts(brand)
    fingerprint = repr(
        ([(t.pk, t.draft_status, t.draft_decision, t.draft_sensitive) for t in tickets], counts)
    )
    stamp = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return InboxPage(tickets=tickets, has_more=has_more, counts=counts, stamp=stamp)


@dataclass(frozen=True)
class Workspace:
    ticket: Ticket
    messages: list[Message]
    draft: Draft | None
    trace: Trace | None
    next_ticket_id: int | None  # the next one down the inbox (older)
    previous_ticket_id: int | None  # the next one up the inbox (newer)


def latest_draft(ticket: Ticket) -> Draft | None:
    """The ticket's newest draft: the highest id, as the inbox counts it too."""
    return ticket.drafts.select_related("decided_by").order_by("-id").first()


def trace_for_draft(draft: Draft | None) -> Trace | None:
    if draft is None:
        return None
    return (
        # filter() first: the plugin types prefetch_related() on the as_manager() manager
        # without its type variables, so a Prefetch argument fails there.
        Trace.objects.filter(draft=draft)
        .prefetch_related(Prefetch("spans", queryset=Span.objects.order_by("seq")))
        .first()
    )


def ticket_workspace(ticket: Ticket) -> Workspace:
    """Everything the workspace page shows, in a fixed number of queries."""
    draft = latest_draft(ticket)
    siblings = Ticket.objects.filter(brand_id=ticket.brand_id)
    return Workspace(
        ticket=ticket,
        messages=list(ticket.messages.select_related("sent_by")),
        draft=draft,
        trace=trace_for_draft(draft),
        next_ticket_id=siblings.filter(pk__lt=ticket.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first(),
        previous_ticket_id=siblings.filter(pk__gt=ticket.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
    )
