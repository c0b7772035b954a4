"""Gorgias: an HTTP integration in (body HMAC-SHA256, hex), messages out through
`POST /api/tickets/{id}/messages` (channel `internal-note` for notes, `email` for replies).

Gorgias messages carry an `external_id`: the delivery key goes there, so an uncertain post is
reconciled by key, not by text."""

from __future__ import annotations

from typing import Any

from copilot.helpdesks.base import (
    LIMITS,
    MalformedPayload,
    PooledClient,
    RemoteReply,
    TicketEvent,
    as_html,
    obj,
    signed_body,
    text,
)
from copilot.helpdesks.base import email as email_field
from copilot.models import HelpdeskConnection

LABEL = HelpdeskConnection.Kind.GORGIAS.label
# Where the settings form's API user and secret go in `credentials` (user e-mail and API key).
CREDENTIAL_KEYS: tuple[str | None, str] = ("username", "api_key")


def verify_and_parse(*, headers: Any, body: bytes, secret: str, tolerance: float) -> TicketEvent:
    """The event of a genuine, fresh Gorgias webhook; a WebhookRejected otherwise."""
    payload, sent_at = signed_body(headers, body, secret, tolerance=tolerance)
    ticket = obj(payload, "ticket")
    customer = obj(ticket, "customer")
    messages = ticket.get("messages") or []
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise MalformedPayload("'ticket.messages' must be a list of objects.")
    from_customer = [m for m in messages if not m.get("from_agent")]
    if not from_customer:
        raise MalformedPayload("'ticket.messages' holds no message from the customer.")
    latest = from_customer[-1]
    customer_email = email_field(customer, "email")
    sender = latest.get("sender") if isinstance(latest.get("sender"), dict) else {}
    # Gorgias received this e-mail from the customer's own address: the helpdesk vouches for it.
    verified = bool(
        customer_email
        and latest.get("channel") == "email"
        and str(sender.get("email", "")).lower() == customer_email.lower()
    )
    return TicketEvent(
        event_id=text(payload, "event_id", max_length=LIMITS.event_id, required=True),
        ticket_id=text(ticket, "id", max_length=LIMITS.remote_ticket_id, required=True),
        subject=text(ticket, "subject", max_length=LIMITS.subject),
        body=text(latest, "body_text", max_length=LIMITS.body, required=True),
        customer_id=text(customer, "id", max_length=LIMITS.remote_customer_id),
        customer_email=customer_email,
        customer_email_verified=verified,
        customer_name=text(customer, "name", max_length=LIMITS.name),
        sent_at=sent_at,
    )


class GorgiasClient(PooledClient):
    """Messages on Gorgias tickets with the REST API's basic auth (user e-mail + API key)."""

    label = LABEL

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float) -> None:
        self._agent = credentials.get("username", "")
        super().__init__(
            base_url=base_url, timeout=timeout, auth=(self._agent, credentials.get("api_key", ""))
        )

    def check(self) -> str:
        account = self._json("GET", "/api/account")
        return f"connected to {account.get('domain', 'the account')}"

    def post(self, *, ticket_id: str, text: str, public: bool, key: str) -> str:
        payload = {
            "channel": "email" if public else "internal-note",
            "via": "api",
            "from_agent": True,
            "sender": {"email": self._agent},
            "body_text": text,
            "body_html": as_html(text),
            "external_id": key,
        }
        answer = self._json("POST", f"/api/tickets/{ticket_id}/messages", json=payload)
        return str(answer.get("id", ""))

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        answer = self._json("GET", f"/api/tickets/{ticket_id}/messages")
        return [
            RemoteReply(
                remote_id=str(m.get("id")),
                text=m.get("body_text") or "",
                public=m.get("channel") != "internal-note",
                key=m.get("external_id") or "",
            )
            for m in answer.get("data", [])
        ]


make_client = GorgiasClient
