"""The shared core of the fake helpdesks, on the fakes' HTTP server (`tests.fakes.base`): an
in-memory store of what was posted, scripted failures and a hold to freeze a response.

Each vendor module (zendesk.py, gorgias.py, freshdesk.py) routes the vendor's real paths and
answers with the vendor's JSON shapes; the copilot's real clients talk to it over HTTP.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.base import FakeServer, Recorded, Reply


@dataclass
class Posted:
    ticket_id: str
    text: str
    public: bool
    key: str = ""
    id: int = 0
    at: float = field(default_factory=time.monotonic)


class FakeHelpdesk(FakeServer):
    """Subclasses set `label` and implement `route(method, path, body, headers) -> (status,
    json)`; requests without the vendor's credentials get a 401."""

    label = "fake"

    def __init__(self, *, auth: tuple[str, str]) -> None:
        super().__init__()
        self.auth = auth
        self.posted: list[Posted] = []
        self.tickets: set[str] = {"101", "102", "103"}
        self.failures: list[int] = []  # statuses to answer the next writes with, in order
        self.hold = threading.Event()
        self.hold.set()  # cleared: a write is stored, then its answer waits until set again
        self.stored_while_held = threading.Event()
        self._next_id = 9000

    def handle(self, request: Recorded) -> Reply:
        if not self._authorized(request.headers.get("authorization", "")):
            return Reply(401, {"error": "Couldn't authenticate you"})
        body = json.loads(request.body) if request.body else {}
        return Reply(*self.route(request.method, request.path, body, request.headers))

    def __exit__(self, *exc: object) -> None:
        self.hold.set()
        super().__exit__(*exc)

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value == self.auth[1]
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == self.auth

    def route(self, method: str, path: str, body: dict[str, Any], headers: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def store(
        self, ticket_id: str, text: str, *, public: bool, key: str = ""
    ) -> tuple[int, Posted]:
        """Record a write, or answer with the next scripted failure instead (status, None)."""
        with self._lock:
            if self.failures:
                return self.failures.pop(0), None  # type: ignore[return-value]
            self._next_id += 1
            posted = Posted(
                ticket_id=ticket_id, text=text, public=public, key=key, id=self._next_id
            )
            self.posted.append(posted)
        if not self.hold.is_set():
            self.stored_while_held.set()
            self.hold.wait(timeout=60)
        return 200, posted

    def posted_on(self, ticket_id: str) -> list[Posted]:
        return [p for p in self.posted if p.ticket_id == ticket_id]

    def write_times(self) -> list[float]:
        return [r.at for r in self.requests if r.method in ("POST", "PUT")]
