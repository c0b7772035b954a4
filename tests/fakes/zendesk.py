"""A fake Zendesk: signs webhooks like Zendesk does, and answers the Tickets API's
`PUT /api/v2/tickets/{id}` (comment {body, public}), `GET .../comments` and `GET /users/me`."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any

from tests.fakes.helpdesk import FakeHelpdesk

EMAIL, TOKEN = "agent@acme.test", "zd-api-token"


def webhook(
    secret: str,
    *,
    ticket_id: str = "101",
    event_id: str = "evt-1",
    email: str = "ana@example.com",
    verified: bool = True,
    description: str = "Hello, where is my order?",
    subject: str = "Where is my order?",
    timestamp: dt.datetime | None = None,
    body: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Zendesk sends for a trigger whose JSON body is the documented one."""
    if body is None:
        body = json.dumps(
            {
                "id": event_id,
                "type": "ticket.created",
                "ticket": {
                    "id": ticket_id,
                    "subject": subject,
                    "description": description,
                    "requester": {
                        "id": "u-77",
                        "email": email,
                        "name": "Ana",
                        "verified": verified,
                    },
                },
            }
        ).encode()
    stamp = (timestamp or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(
        hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    ).decode()
    return body, {
        "X-Zendesk-Webhook-Signature": signature,
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Id": "01GK8E6BKWMJZD2T8Y5AXJQMG5",
    }


class FakeZendesk(FakeHelpdesk):
    label = "Zendesk"

    def __init__(self) -> None:
        super().__init__(auth=(f"{EMAIL}/token", TOKEN))

    def route(self, method: str, path: str, body: dict[str, Any], headers: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/api/v2/users/me":
            return 200, {"user": {"id": 1, "email": EMAIL, "role": "agent"}}
        match = re.fullmatch(r"/api/v2/tickets/(\w+)(/comments)?", path)
        if not match or match.group(1) not in self.tickets:
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        ticket_id = match.group(1)
        if method == "GET" and match.group(2):
            return 200, {
                "comments": [
                    {"id": p.id, "type": "Comment", "body": p.text, "public": p.public}
                    for p in self.posted_on(ticket_id)
                ],
                "next_page": None,
            }
        if method == "PUT" and not match.group(2):
            comment = (body.get("ticket") or {}).get("comment") or {}
            status, posted = self.store(
                ticket_id, comment.get("body", ""), public=comment.get("public", True)
            )
            if posted is None:
                return status, {"error": "Service unavailable"}
            return 200, {
                "ticket": {"id": int(ticket_id)},
                "audit": {
                    "id": posted.id + 1,
                    "events": [{"id": posted.id, "type": "Comment", "public": posted.public}],
                },
            }
        return 405, {"error": "method not allowed"}
