"""Gorgias: an HTTP integration in (body HMAC-SHA256, hex), messages out through
`POST /api/tickets/{id}/messages` (channel `internal-note` for notes, `email` for replies).

Gorgias messages carry an `external_id`: the delivery key goes there, so an uncertain post is
reconciled by key, not by text."""

from __future__ import annotations

from typing import Any

import httpx

from copilot.helpdesks.base import (
    HelpdeskClient,
    MalformedPayload,
    PooledClient,
    RemoteReply,
    TicketEvent,
    as_html,
    json_body,
    load_json_object,
    obj,
    request,
    require_fresh,
    sent_at_of,
    text,
    verify_body_hmac,
)
from copilot.helpdesks.base import email as email_field

LABEL = "Gorgias"


def verify_and_parse(*, headers: Any, body: bytes, secret: str, tolerance: float) -> TicketEvent:
    """The event of a genuine, fresh Gorgias webhook; a WebhookRejected otherwise."""
    verify_body_hmac(headers, body, secret)
    payload = load_json_object(body)
    sent_at = sent_at_of(payload)
    require_fresh(sent_at, tolerance=tolerance)
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
        event_id=text(payload, "event_id", max_length=120, required=True),
        ticket_id=text(ticket, "id", max_length=60, required=True),
        subject=text(ticket, "subject", max_length=300),
        body=text(latest, "body_text", max_length=100_000, required=True),
        customer_id=text(customer, "id", max_length=100),
        customer_email=customer_email,
        customer_email_verified=verified,
        customer_name=text(customer, "name", max_length=200),
        sent_at=sent_at,
    )


class GorgiasClient(PooledClient):
    """Messages on Gorgias tickets with the REST API's basic auth (user e-mail + API key)."""

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float) -> None:
        self._agent = credentials.get("username", "")
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(self._agent, credentials.get("api_key", "")),
            timeout=timeout,
        )

    def check(self) -> str:
        http = self._http
        account = json_body(request(http, "GET", "/api/account", vendor=LABEL), vendor=LABEL)
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
        http = self._http
        answer = json_body(
            request(http, "POST", f"/api/tickets/{ticket_id}/messages", vendor=LABEL, json=payload),
            vendor=LABEL,
        )
        return str(answer.get("id", ""))

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        http = self._http
        answer = json_body(
            request(http, "GET", f"/api/tickets/{ticket_id}/messages", vendor=LABEL),
            vendor=LABEL,
        )
        return [
            RemoteReply(
                remote_id=str(m.get("id")),
                text=m.get("body_text") or "",
                public=m.get("channel") != "internal-note",
                key=m.get("external_id") or "",
            )
            for m in answer.get("data", [])
        ]


def make_client(*, base_url: str, credentials: dict[str, str], timeout: float) -> HelpdeskClient:
    return GorgiasClient(base_url=base_url, credentials=credentials, timeout=timeout)
