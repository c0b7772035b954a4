"""The generic JSON format, for any helpdesk or relay: body HMAC-SHA256 (hex) in, replies out
to `POST {base_url}/tickets/{id}/replies` with an `Idempotency-Key` header."""

from __future__ import annotations

from typing import Any

from copilot.helpdesks.base import (
    LIMITS,
    PooledClient,
    RemoteReply,
    TicketEvent,
    flag,
    obj,
    signed_body,
    text,
)
from copilot.helpdesks.base import email as email_field
from copilot.models import HelpdeskConnection

LABEL = HelpdeskConnection.Kind.GENERIC.label
# Where the settings form's API user and secret go in `credentials` (bearer token only).
CREDENTIAL_KEYS: tuple[str | None, str] = (None, "token")


def verify_and_parse(*, headers: Any, body: bytes, secret: str, tolerance: float) -> TicketEvent:
    """The event of a genuine, fresh generic webhook; a WebhookRejected otherwise."""
    payload, sent_at = signed_body(headers, body, secret, tolerance=tolerance)
    ticket = obj(payload, "ticket")
    customer = obj(ticket, "customer")
    customer_email = email_field(customer, "email")
    return TicketEvent(
        event_id=text(payload, "event_id", max_length=LIMITS.event_id, required=True),
        ticket_id=text(ticket, "id", max_length=LIMITS.remote_ticket_id, required=True),
        subject=text(ticket, "subject", max_length=LIMITS.subject),
        body=text(ticket, "body", max_length=LIMITS.body, required=True),
        customer_id=text(customer, "id", max_length=LIMITS.remote_customer_id),
        customer_email=customer_email,
        customer_email_verified=bool(customer_email) and flag(customer, "email_verified"),
        customer_name=text(customer, "name", max_length=LIMITS.name),
        sent_at=sent_at,
    )


class GenericClient(PooledClient):
    """Replies through a small REST contract, authenticated with a bearer token."""

    label = LABEL

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {credentials.get('token', '')}"},
        )

    def check(self) -> str:
        self._call("GET", "/tickets")
        return "the endpoint answered"

    def post(self, *, ticket_id: str, text: str, public: bool, key: str) -> str:
        answer = self._json(
            "POST",
            f"/tickets/{ticket_id}/replies",
            json={"body": text, "public": public},
            headers={"Idempotency-Key": key},
        )
        return str(answer.get("id", ""))

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        answer = self._json("GET", f"/tickets/{ticket_id}/replies")
        return [
            RemoteReply(
                remote_id=str(r.get("id")),
                text=r.get("body", ""),
                public=bool(r.get("public")),
                key=r.get("idempotency_key") or "",
            )
            for r in answer.get("replies", [])
        ]


make_client = GenericClient
