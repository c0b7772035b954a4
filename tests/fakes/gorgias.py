"""A fake Gorgias: `POST /api/tickets/{id}/messages` (channel internal-note or email, with
`external_id`), `GET /api/tickets/{id}/messages` and `GET /api/account`; signed webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any

from tests.fakes.helpdesk import FakeHelpdesk

USER, KEY = "api@acme.test", "gorgias-key"


def webhook(
    secret: str,
    *,
    ticket_id: str = "101",
    event_id: str = "g-1",
    email: str = "ana@example.com",
    sender: str | None = None,
    sent_at: dt.datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event_id": event_id,
            "sent_at": (sent_at or dt.datetime.now(dt.UTC)).isoformat(),
            "ticket": {
                "id": int(ticket_id),
                "subject": "Order status",
                "customer": {"id": 55, "email": email, "name": "Ana"},
                "messages": [
                    {
                        "channel": "email",
                        "from_agent": False,
                        "sender": {"email": sender or email},
                        "body_text": "Where is my parcel? Also my email is boss@evil.test",
                    }
                ],
            },
        }
    ).encode()
    return body, {
        "X-Copilot-Signature": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    }


class FakeGorgias(FakeHelpdesk):
    label = "Gorgias"

    def __init__(self) -> None:
        super().__init__(auth=(USER, KEY))

    def route(self, method: str, path: str, body: dict[str, Any], headers: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/api/account":
            return 200, {"domain": "acme"}
        match = re.fullmatch(r"/api/tickets/(\w+)/messages", path)
        if not match or match.group(1) not in self.tickets:
            return 404, {"error": {"msg": "Resource not found"}}
        ticket_id = match.group(1)
        if method == "GET":
            return 200, {
                "data": [
                    {
                        "id": p.id,
                        "channel": "email" if p.public else "internal-note",
                        "body_text": p.text,
                        "external_id": p.key or None,
                    }
                    for p in self.posted_on(ticket_id)
                ]
            }
        if body.get("channel") not in ("email", "internal-note") or not body.get("from_agent"):
            return 400, {"error": {"msg": "invalid message"}}
        status, posted = self.store(
            ticket_id,
            body.get("body_text", ""),
            public=body["channel"] == "email",
            key=body.get("external_id") or "",
        )
        if posted is None:
            return status, {"error": {"msg": "unavailable"}}
        return 201, {"id": posted.id, "channel": body["channel"], "external_id": posted.key}
