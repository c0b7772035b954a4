"""Zendesk: a trigger's webhook in (signed: base64 HMAC-SHA256 of timestamp + body), comments
out through the Tickets API (`PUT /api/v2/tickets/{id}` with `comment.public`)."""

from __future__ import annotations

from typing import Any

from copilot.helpdesks.base import (
    LIMITS,
    BadSignature,
    PooledClient,
    RemoteReply,
    TicketEvent,
    flag,
    hmac_base64,
    load_json_object,
    obj,
    parse_timestamp,
    require_fresh,
    require_signature,
    text,
)
from copilot.helpdesks.base import email as email_field
from copilot.models import HelpdeskConnection

LABEL = HelpdeskConnection.Kind.ZENDESK.label
# Where the settings form's API user and secret go in `credentials` (user e-mail and API token).
CREDENTIAL_KEYS: tuple[str | None, str] = ("email", "api_token")
SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION = "X-Zendesk-Webhook-Invocation-Id"


def verify_and_parse(*, headers: Any, body: bytes, secret: str, tolerance: float) -> TicketEvent:
    """The event of a genuine, fresh Zendesk webhook; a WebhookRejected otherwise."""
    timestamp = headers.get(TIMESTAMP, "").strip()
    if not timestamp:
        raise BadSignature(f"The request is not signed: the {TIMESTAMP} header is missing.")
    require_signature(hmac_base64(secret, timestamp.encode() + body), headers.get(SIGNATURE, ""))
    sent_at = parse_timestamp(timestamp)
    require_fresh(sent_at, tolerance=tolerance)
    payload = load_json_object(body)
    ticket = obj(payload, "ticket")
    requester = obj(ticket, "requester")
    event_id = (
        text(payload, "id", max_length=LIMITS.event_id)
        or headers.get(INVOCATION, "").strip()[: LIMITS.event_id]
    )
    if not event_id:
        raise BadSignature(f"No event id: send 'id' in the body or the {INVOCATION} header.")
    return TicketEvent(
        event_id=event_id,
        ticket_id=text(ticket, "id", max_length=LIMITS.remote_ticket_id, required=True),
        subject=text(ticket, "subject", max_length=LIMITS.subject),
        body=text(ticket, "description", max_length=LIMITS.body, required=True),
        customer_id=text(requester, "id", max_length=LIMITS.remote_customer_id),
        customer_email=email_field(requester, "email"),
        customer_email_verified=flag(requester, "verified"),
        customer_name=text(requester, "name", max_length=LIMITS.name),
        sent_at=sent_at,
    )


class ZendeskClient(PooledClient):
    """Comments on Zendesk tickets with an API token (`{email}/token`)."""

    label = LABEL

    def __init__(self, *, base_url: str, credentials: dict[str, str], timeout: float) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            auth=(f"{credentials.get('email', '')}/token", credentials.get("api_token", "")),
        )

    def check(self) -> str:
        user = self._json("GET", "/api/v2/users/me")
        return f"signed in as {(user.get('user') or {}).get('email', 'an API user')}"

    def post(self, *, ticket_id: str, text: str, public: bool, key: str) -> str:
        payload = {"ticket": {"comment": {"body": text, "public": public}}}
        answer = self._json("PUT", f"/api/v2/tickets/{ticket_id}", json=payload)
        audit = answer.get("audit") or {}
        comments = [e for e in audit.get("events", []) if e.get("type") == "Comment"]
        return str(comments[0]["id"] if comments else audit.get("id", ""))

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        answer = self._json("GET", f"/api/v2/tickets/{ticket_id}/comments")
        return [
            RemoteReply(remote_id=str(c.get("id")), text=c.get("body", ""), public=c.get("public"))
            for c in answer.get("comments", [])
        ]


make_client = ZendeskClient
