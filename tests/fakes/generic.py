"""A fake of the generic reply contract: `POST /tickets/{id}/replies` honouring
`Idempotency-Key`, `GET /tickets/{id}/replies`, `GET /tickets`; bearer token auth."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.helpdesk import FakeHelpdesk

TOKEN = "generic-token"


class FakeGeneric(FakeHelpdesk):
    label = "Generic JSON"

    def __init__(self) -> None:
        super().__init__(auth=("", TOKEN))

    def route(self, method: str, path: str, body: dict[str, Any], headers: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/tickets":
            return 200, {"tickets": []}
        match = re.fullmatch(r"/tickets/([\w-]+)/replies", path)
        if not match or match.group(1) not in self.tickets:
            return 404, {"error": "no such ticket"}
        ticket_id = match.group(1)
        if method == "GET":
            return 200, {
                "replies": [
                    {"id": p.id, "body": p.text, "public": p.public, "idempotency_key": p.key}
                    for p in self.posted_on(ticket_id)
                ]
            }
        key = headers.get("idempotency-key", "")
        earlier = [p for p in self.posted_on(ticket_id) if key and p.key == key]
        if earlier:
            return 200, {"id": earlier[0].id, "replayed": True}
        status, posted = self.store(ticket_id, body.get("body", ""), public=body["public"], key=key)
        if posted is None:
            return status, {"error": "unavailable"}
        return 201, {"id": posted.id}
