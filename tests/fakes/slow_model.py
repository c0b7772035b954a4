"""A local OpenAI-compatible model server whose faults are set by the test: latency, 429/503
storms with Retry-After, a tool call on the first turn. The real `openai` SDK talks to it.

    with SlowModel(delay=2.0) as model:   # model.url -> OPENAI_BASE_URL
        ...
    model.requests  # what it was asked, in order

Run alone (for a worker in another process or a benchmark):
`python -m tests.fakes.slow_model --delay 2 --port 8765`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    """One request the server received: when, the ticket's subject line, what it answered."""

    at: float
    subject: str
    has_tool_result: bool
    status: int


@dataclass
class SlowModel:
    """Answers chat completions after `delay` seconds.

    - `fail_first` requests get `fail_status` (429 or 503) with `Retry-After: retry_after`.
    - With `tool_call` set, a first turn that offers that tool gets a call to it (after
      `tool_delay`); the turn carrying the tool result gets the text answer (after `delay`).
    """

    delay: float = 0.0
    tool_call: str | None = None
    tool_delay: float = 0.0
    fail_first: int = 0
    fail_status: int = 429
    retry_after: float = 1.0
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._served = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://{self.host}:{self._server.server_address[1]}/v1"

    def start(self) -> SlowModel:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                status, headers, body, wait = model._answer(payload)
                time.sleep(wait)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in {**headers, "Content-Type": "application/json"}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client is gone (a killed worker, a timeout): nothing to tell it

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024  # hundreds of drafts connect at once

        self._server = Server((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> SlowModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def asked(self, subject: str, *, with_tool_result: bool | None = None) -> list[Request]:
        """The requests about the ticket whose subject contains `subject`."""
        with self._lock:
            return [
                r
                for r in self.requests
                if subject in r.subject
                and (with_tool_result is None or r.has_tool_result == with_tool_result)
            ]

    # --- what to answer -------------------------------------------------------------------
    def _answer(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], Any, float]:
        messages = payload.get("messages") or []
        user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        subject = user.split("\n", 1)[0].removeprefix("Ticket subject:").strip()
        has_tool_result = any(m.get("role") == "tool" for m in messages)
        with self._lock:
            self._served += 1
            failing = self._served <= self.fail_first
            status = self.fail_status if failing else 200
            self.requests.append(Request(time.time(), subject, has_tool_result, status))
        if failing:
            error = {"message": "Slow down.", "type": "rate_limit_exceeded", "code": None}
            return status, {"Retry-After": f"{self.retry_after:g}"}, {"error": error}, 0.0

        offered = {t.get("function", {}).get("name") for t in payload.get("tools") or []}
        model = payload.get("model") or "slow-model"
        if self.tool_call and self.tool_call in offered and not has_tool_result:
            call = {
                "id": f"call_{self._served}",
                "type": "function",
                "function": {"name": self.tool_call, "arguments": "{}"},
            }
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
            return 200, {}, _completion(model, message, "tool_calls"), self.tool_delay
        message = {"role": "assistant", "content": f"Hello, about '{subject}': we are on it."}
        return 200, {}, _completion(model, message, "stop"), self.delay


def _completion(model: str, message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-slow",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    model = SlowModel(delay=args.delay, port=args.port).start()
    print(model.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
