"""A local order-system HTTP API whose faults the test sets: slow, down (5xx or not
listening at all), throttling (429 with Retry-After). It knows no orders: it answers
`{"orders": []}` when healthy, which is all a fault test needs."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class OrderApi:
    delay: float = 0.0
    status: int = 200
    retry_after: float | None = None
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OrderApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                api.requests.append(self.path)
                time.sleep(api.delay)
                ok = api.status == 200
                body = json.dumps({"orders": []} if ok else {"errors": "unavailable"}).encode()
                try:
                    self.send_response(api.status)
                    if api.retry_after is not None:
                        self.send_header("Retry-After", f"{api.retry_after:g}")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, as a client with a timeout does

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: from now on a connection is refused, as when the API is down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
