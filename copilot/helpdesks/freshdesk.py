"""Freshdesk: an automation rule's webhook in (body HMAC-SHA256, hex), conversations out
through `POST /api/v2/tickets/{id}/reply` (public) and `/notes` (private)."""

from __future__ import annotations

from typing import Any

from copilot.helpdesks.base import (
    LIMITS,
    PooledClient,
    RemoteReply,
    TicketEvent,
    as_html,
    flag,
    obj,
    signed_body,
    text,
)
from copilot.helpdesks.base import email as email_field
from copilot.models import HelpdeskConnection

LABEL = HelpdeskConnection.Kind.FRESHDESK.label
# Where the settings form's API user and secret go in `credentials` (API key only).
CREDENTIAL_KEYS: tuple[str | None, str] = (None, "api_key")
EMAIL_SOURCE = "1"  # Freshdesk's ticket source code for e-mail


def verify_and_parse(*, headers: Any, body: bytes, secret: str, tolerance: float) -> TicketEvent:
    """The event of a genuine, fresh Freshdesk webhook; a WebhookRejected otherwise."""
    payload, sent_at = signed_body(headers, body, secret, tolerance=tolerance)
    hook = obj(payload, "freshdesk_webhook")
    requester_email = email_field(hook, "ticket_requester_email")
    # A ticket Freshdesk built from the requester's own e-mail, or one a logged-in contact filed.
    verified = bool(requester_email) and (
        text(hook, "ticket_source", max_length=10) == EMAIL_SOURCE
        or flag(hook, "ticket_requester_verified")
    )
    return TicketEvent(
        event_id=text(payload, "event_id", max_length=LIMITS.event_id, required=True),
        ticket_id=text(hook, "ticket_id", max_length=LIMITS.remote_ticket_id, required=True),
        subject=text(hook, "ticket_subject", max_length=LIMITS.subject),
        body=text(hook, "ticket_description", max_length=LIMITS.body, required=True),
        customer_id=text(hook, "ticket_requester_id", max_length=LIMITS.remote_customer_id),
        customer_email=requester_email,
        customer_email_verified=verified,
        customer_name=text(hook, "ticket_requester_name", max_length=LIMITS.name),
        sent_at=sent_at,
    )


class FreshdeskClient(PooledClient):
    """Replies and notes on Freshdesk tickets with an API key (basic auth `key:X`)."""

    label = LABEL

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float) -> None:
        super().__init__(
            base_url=base_url, timeout=timeout, auth=(credentials.get("api_key", ""), "X")
        )

    def check(self) -> str:
        me = self._json("GET", "/api/v2/agents/me")
        return f"signed in as {(me.get('contact') or {}).get('email', 'an agent')}"

    def post(self, *, ticket_id: str, text: str, public: bool, key: str) -> str:
        path = f"/api/v2/tickets/{ticket_id}/" + ("reply" if public else "notes")
        payload: dict[str, Any] = {"body": as_html(text)}
        if not public:
            payload["private"] = True
        answer = self._json("POST", path, json=payload)
        return str(answer.get("id", ""))

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        answer = self._json("GET", f"/api/v2/tickets/{ticket_id}/conversations")
        return [
            RemoteReply(
                remote_id=str(c.get("id")),
                text=c.get("body_text") or "",
                public=not c.get("private", False),
            )
            for c in (answer if isinstance(answer, list) else [])
        ]


make_client = FreshdeskClient
