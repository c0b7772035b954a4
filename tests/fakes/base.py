"""A threaded HTTP server on 127.0.0.1 (port 0) that records requests and injects faults."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Subclasses answer `handle(request) -> Reply`. Faults are scripted per test:

    `fail("500", times=2)` answers the next two requests with that fault; `times=None`
    keeps failing. Kinds: "401", "500", "429", "timeout" (sleeps `hang_seconds` first),
    "malformed" (a 200 with broken JSON), "throttled" (the vendor's own throttle answer), and
    any other HTTP status as digits ("403", "502"), answered by `status_reply`. Subclasses
    shape each answer as their vendor does (`unauthorized`, `server_error`, `rate_limited`...).
    """

    hang_seconds = 3.0

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: list[tuple[str, int | None]] = []
        self.retry_after: str | None = "0"
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(
                    method=self.command,
                    path=split.path,
                    query={k: v[0] for k, v in parse_qs(split.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = fake._answer(request)
                body = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, kind: str, *, times: int | None = 1) -> None:
        with self._lock:
            self._faults.append((kind, times))

    def heal(self) -> None:
        """Drop every scripted fault: the system answers normally again."""
        with self._lock:
            self._faults.clear()

    def _next_fault(self) -> str | None:
        with self._lock:
            if not self._faults:
                return None
            kind, times = self._faults[0]
            if times is not None:
                if times <= 1:
                    self._faults.pop(0)
                else:
                    self._faults[0] = (kind, times - 1)
            return kind

    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
        fault = self._next_fault()
        if fault == "timeout":
            time.sleep(self.hang_seconds)
            return self.handle(request)
        if fault == "401":
            return self.unauthorized()
        if fault == "500":
            return self.server_error()
        if fault == "429":
            return self.rate_limited()
        if fault == "malformed":
            return Reply(200, b'{"data": {"orders": {"nodes": [{"name": "#10')
        if fault == "throttled":
            return self.throttled()
        if fault is not None and fault.isdigit():
            return self.status_reply(int(fault))
        return self.handle(request)

    # --- for subclasses --------------------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def unauthorized(self) -> Reply:
        return Reply(401, {"errors": "Unauthorized"})

    def server_error(self) -> Reply:
        return Reply(500, {"errors": "Internal Server Error"})

    def rate_limited(self) -> Reply:
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
        return Reply(429, {"errors": "Too Many Requests"}, headers)

    def status_reply(self, status: int) -> Reply:
        return Reply(status, {"errors": f"HTTP {status}"})

    def throttled(self) -> Reply:
        return Reply(429, {"errors": "Too Many Requests"}, {"Retry-After": "0"})
