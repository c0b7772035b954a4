"""A fake Freshdesk: `POST /api/v2/tickets/{id}/reply`, `POST .../notes` (private),
`GET .../conversations` and `GET /api/v2/agents/me`; signed webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import re
from typing import Any

from tests.fakes.helpdesk import FakeHelpdesk

API_KEY = "fd-key"


def webhook(
    secret: str,
    *,
    ticket_id: str = "101",
    event_id: str = "f-1",
    email: str = "ana@example.com",
    source: str = "1",
    sent_at: dt.datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event_id": event_id,
            "sent_at": int((sent_at or dt.datetime.now(dt.UTC)).timestamp()),
            "freshdesk_webhook": {
                "ticket_id": ticket_id,
                "ticket_subject": "Late order",
                "ticket_description": "My order has not arrived.",
                "ticket_requester_id": "880",
                "ticket_requester_email": email,
                "ticket_requester_name": "Ana",
                "ticket_source": source,
            },
        }
    ).encode()
    return body, {
        "X-Copilot-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    }


def _text(body_html: str) -> str:
    return html.unescape(re.sub(r"<br\s*/?>", "\n", body_html))


class FakeFreshdesk(FakeHelpdesk):
    label = "Freshdesk"

    def __init__(self) -> None:
        super().__init__(auth=(API_KEY, "X"))

    def route(self, method: str, path: str, body: dict[str, Any], headers: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/api/v2/agents/me":
            return 200, {"id": 1, "contact": {"email": "agent@acme.test"}}
        match = re.fullmatch(r"/api/v2/tickets/(\w+)/(reply|notes|conversations)", path)
        if not match or match.group(1) not in self.tickets:
            return 404, {"code": "access_denied"}
        ticket_id, action = match.groups()
        if method == "GET" and action == "conversations":
            return 200, [
                {"id": p.id, "body": p.text, "body_text": p.text, "private": not p.public}
                for p in self.posted_on(ticket_id)
            ]
        if method != "POST" or action == "conversations" or not body.get("body"):
            return 400, {"description": "Validation failed"}
        public = action == "reply"
        status, posted = self.store(ticket_id, _text(body["body"]), public=public)
        if posted is None:
            return status, {"code": "unavailable"}
        return 201, {"id": posted.id, "body": body["body"], "private": not public}
