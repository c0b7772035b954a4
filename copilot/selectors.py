"""Reads of the core domain. `access_*` is the one way to load a brand-scoped object for a
user: anything outside the user's brands is a 404, so ids do not leak."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from audit.models import Span, Trace
from copilot.models import Brand, Draft, Membership, Message, Ticket

INBOX_PAGE_SIZE = 50


def memberships_for(user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("brand").order_by("brand__name")


def access_brand(user: AbstractBaseUser, slug: str, *, role: str = "agent") -> Membership:
    """The user's membership in brand `slug` with at least `role`, or 404."""
    membership = memberships_for(user).filter(brand__slug=slug).first()
    if membership is None or not membership.has_role(role):
        raise Http404("No such brand.")
    return membership


def _user_brand_ids(user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).values("brand_id")


def access_ticket(user: AbstractBaseUser, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_related("brand", "customer")
        .filter(pk=ticket_id, brand_id__in=_user_brand_ids(user))
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def access_draft(user: AbstractBaseUser, draft_id: int) -> Draft:
    draft = (
        Draft.objects.select_related("ticket__brand", "ticket__customer")
        .filter(pk=draft_id, ticket__brand_id__in=_user_brand_ids(user))
        .first()
    )
    if draft is None:
        raise Http404("No such draft.")
    return draft


def access_trace(user: AbstractBaseUser, trace_id: int) -> Trace:
    trace = (
        Trace.objects.select_related("brand", "ticket", "draft")
        .prefetch_related(Prefetch("spans", queryset=Span.objects.order_by("seq")))
        .filter(pk=trace_id, brand_id__in=_user_brand_ids(user))
        .first()
    )
    if trace is None:
        raise Http404("No such trace.")
    return trace


def inbox_for_brand(brand: Brand, *, before_id: int | None = None) -> list[Ticket]:
    """A page of the brand's tickets, newest first, each with its latest draft's status."""
    latest = Draft.objects.filter(ticket=OuterRef("pk")).order_by("-created_at", "-id")
    tickets = (
        Ticket.objects.filter(brand=brand)
        .select_related("customer")
        .annotate(
            draft_status=Subquery(latest.values("status")[:1]),
            draft_decision=Subquery(latest.values("decision")[:1]),
        )
        .order_by("-id")
    )
    if before_id is not None:
        tickets = tickets.filter(pk__lt=before_id)
    return list(tickets[:INBOX_PAGE_SIZE])


@dataclass(frozen=True)
class Workspace:
    ticket: Ticket
    messages: list[Message]
    draft: Draft | None
    trace: Trace | None


def latest_draft(ticket: Ticket) -> Draft | None:
    return ticket.drafts.select_related("decided_by").order_by("-created_at", "-id").first()


def trace_for_draft(draft: Draft | None) -> Trace | None:
    if draft is None:
        return None
    return (
        Trace.objects.prefetch_related(Prefetch("spans", queryset=Span.objects.order_by("seq")))
        .filter(draft=draft)
        .first()
    )


def ticket_workspace(ticket: Ticket) -> Workspace:
    """Everything the workspace page shows, in a fixed number of queries."""
    draft = latest_draft(ticket)
    return Workspace(
        ticket=ticket,
        messages=list(ticket.messages.select_related("sent_by")),
        draft=draft,
        trace=trace_for_draft(draft),
    )
