"""The generic JSON format, for any helpdesk or relay: body HMAC-SHA256 (hex) in, replies out
to `POST {base_url}/tickets/{id}/replies` with an `Idempotency-Key` header."""

from __future__ import annotations

from typing import Any

import httpx

from copilot.helpdesks.base import (
    HelpdeskClient,
    PooledClient,
    RemoteReply,
    TicketEvent,
    flag,
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

LABEL = "Generic JSON"


def verify_and_parse(*, headers: Any, body: bytes, secret: str, tolerance: float) -> TicketEvent:
    """The event of a genuine, fresh generic webhook; a WebhookRejected otherwise."""
    verify_body_hmac(headers, body, secret)
    payload = load_json_object(body)
    sent_at = sent_at_of(payload)
    require_fresh(sent_at, tolerance=tolerance)
    ticket = obj(payload, "ticket")
    customer = obj(ticket, "customer")
    customer_email = email_field(customer, "email")
    return TicketEvent(
        event_id=text(payload, "event_id", max_length=120, required=True),
        ticket_id=text(ticket, "id", max_length=60, required=True),
        subject=text(ticket, "subject", max_length=300),
        body=text(ticket, "body", max_length=100_000, required=True),
        customer_id=text(customer, "id", max_length=100),
        customer_email=customer_email,
        customer_email_verified=bool(customer_email) and flag(customer, "email_verified"),
        customer_name=text(customer, "name", max_length=200),
        sent_at=sent_at,
    )


class GenericClient(PooledClient):
    """Replies through a small REST contract, authenticated with a bearer token."""

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {credentials.get('token', '')}"},
            timeout=timeout,
        )

    def check(self) -> str:
        http = self._http
        request(http, "GET", "/tickets", vendor=LABEL)
        return "the endpoint answered"

    def post(self, *, ticket_id: str, text: str, public: bool, key: str) -> str:
        http = self._http
        answer = json_body(
            request(
                http,
                "POST",
                f"/tickets/{ticket_id}/replies",
                vendor=LABEL,
                json={"body": text, "public": public},
                headers={"Idempotency-Key": key},
            ),
            vendor=LABEL,
        )
        return str(answer.get("id", ""))

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        http = self._http
        answer = json_body(
            request(http, "GET", f"/tickets/{ticket_id}/replies", vendor=LABEL), vendor=LABEL
        )
        return [
            RemoteReply(
                remote_id=str(r.get("id")),
                text=r.get("body", ""),
                public=bool(r.get("public")),
                key=r.get("idempotency_key") or "",
            )
            for r in answer.get("replies", [])
        ]


def make_client(*, base_url: str, credentials: dict[str, str], timeout: float) -> HelpdeskClient:
    return GenericClient(base_url=base_url, credentials=credentials, timeout=timeout)
