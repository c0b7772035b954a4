"""Who may see what: the one way to load a brand-scoped object for a user.

Every `access_*` returns the object only to a member of its brand (with at least the role
asked for); anything else is a 404, never a 403, so ids of other brands do not leak.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from copilot.models import Draft, Membership, Role, Ticket, roles_at_least


def memberships_for(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("brand").order_by("brand__name")


def access_brand(user: User, slug: str, *, role: str = "agent") -> Membership:
    """The user's membership in brand `slug` with at least `role`, or 404."""
    membership = memberships_for(user).filter(brand__slug=slug).first()
    if membership is None or not membership.has_role(role):
        raise Http404("No such brand.")
    return membership


def user_brand_ids(user: User, role: str = Role.AGENT) -> QuerySet[Membership, int]:
    """The ids of the brands where `user` has at least `role` (a subquery for `__in`)."""
    return Membership.objects.filter(user=user, role__in=roles_at_least(role)).values_list(
        "brand_id", flat=True
    )


def access_ticket(user: User, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_related("brand", "customer")
        .filter(pk=ticket_id, brand_id__in=user_brand_ids(user))
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def drafts_for_panel() -> QuerySet[Draft]:
    """Drafts with what their panel shows: ticket, decider, and the helpdesk delivery with
    its connection's kind (its secrets are not read, so not decrypted)."""
    return Draft.objects.select_related(
        "ticket__brand", "ticket__customer", "decided_by", "reply_delivery__connection"
    ).defer("reply_delivery__connection__credentials", "reply_delivery__connection__webhook_secret")


def access_draft(user: User, draft_id: int) -> Draft:
    draft = (
        drafts_for_panel().filter(pk=draft_id, ticket__brand_id__in=user_brand_ids(user)).first()
    )
    if draft is None:
        raise Http404("No such draft.")
    return draft
