"""The shared core of the fake helpdesks: a real HTTP server on 127.0.0.1 (port 0) in a thread,
an in-memory store of what was posted, scripted failures and a hold to freeze a response.

Each vendor module (zendesk.py, gorgias.py, freshdesk.py) routes the vendor's real paths and
answers with the vendor's JSON shapes; the copilot's real clients talk to it over HTTP.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Posted:
    ticket_id: str
    text: str
    public: bool
    key: str = ""
    id: int = 0
    at: float = field(default_factory=time.monotonic)


class FakeHelpdesk:
    """Subclasses set `label` and implement `route(method, path, body) -> (status, json)`."""

    label = "fake"

    def __init__(self, *, auth: tuple[str, str]) -> None:
        self.auth = auth
        self.posted: list[Posted] = []
        self.requests: list[tuple[str, str, float]] = []
        self.tickets: set[str] = {"101", "102", "103"}
        self.failures: list[int] = []  # statuses to answer the next writes with, in order
        self.hold = threading.Event()
        self.hold.set()  # cleared: a write is stored, then its answer waits until set again
        self.stored_while_held = threading.Event()
        self._lock = threading.Lock()
        self._next_id = 9000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                fake.requests.append((method, self.path, time.monotonic()))
                if not fake._authorized(self.headers.get("Authorization", "")):
                    return self._answer(401, {"error": "Couldn't authenticate you"})
                body = json.loads(raw) if raw else {}
                status, payload = fake.route(method, self.path, body, self.headers)
                self._answer(status, payload)

            def _answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHelpdesk:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

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
        return [at for method, _, at in self.requests if method in ("POST", "PUT")]
