"""A local OpenAI-compatible Chat Completions server: real HTTP on 127.0.0.1.

The real `openai` client talks to it through `OPENAI_BASE_URL`, so tests and benchmarks
exercise the SDK, its HTTP stack and our error mapping, not a mock. Each request to
`POST /v1/chat/completions` is answered by the next scripted `Reply` (text, tool calls, a
refusal, an empty answer, an HTTP error with headers, each optionally delayed); when the
script is empty, by the `responder` callable, which sees the request body. Every request
body is kept in `requests` for assertions.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-gpt"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: a status, a JSON body, headers, and how long to wait first."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _completion(
    message: dict[str, Any], *, finish: str, tokens_in: int, tokens_out: int, model: str
) -> Reply:
    return Reply(
        body={
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
    )


def text(content: str, *, tokens_in: int = 120, tokens_out: int = 40, model: str = MODEL) -> Reply:
    """A final answer."""
    return _completion(
        {"role": "assistant", "content": content},
        finish="stop",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        model=model,
    )


def tool_call(
    name: str,
    arguments: dict[str, Any] | str,
    *,
    tokens_in: int = 100,
    tokens_out: int = 15,
    model: str = MODEL,
) -> Reply:
    """A turn asking for one tool call; a `str` is sent as is (e.g. malformed JSON)."""
    return tool_calls([(name, arguments)], tokens_in=tokens_in, tokens_out=tokens_out, model=model)


def tool_calls(
    calls: list[tuple[str, dict[str, Any] | str]],
    *,
    tokens_in: int = 100,
    tokens_out: int = 15,
    model: str = MODEL,
) -> Reply:
    """A turn asking for several tool calls at once."""
    return _completion(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{next(_ids)}",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
                for name, args in calls
            ],
        },
        finish="tool_calls",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        model=model,
    )


def refusal(reason: str = "I can't help with that.") -> Reply:
    """The model declines (the `refusal` field of the message)."""
    return _completion(
        {"role": "assistant", "content": None, "refusal": reason},
        finish="stop",
        tokens_in=50,
        tokens_out=5,
        model=MODEL,
    )


def empty() -> Reply:
    """A completion with neither text nor tool calls."""
    return _completion(
        {"role": "assistant", "content": ""}, finish="stop", tokens_in=50, tokens_out=0, model=MODEL
    )


def error(status: int, message: str = "error", headers: dict[str, str] | None = None) -> Reply:
    """An HTTP error in OpenAI's error shape, e.g. `error(429, headers={"Retry-After": "1"})`."""
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "server_error", "code": str(status)}},
        headers=headers or {},
    )


def delayed(reply: Reply, seconds: float) -> Reply:
    """`reply`, sent after `seconds`."""
    return Reply(status=reply.status, body=reply.body, headers=reply.headers, delay=seconds)


def tool_result_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results a request carries (what our engine told the model)."""
    return [m for m in request.get("messages", []) if m.get("role") == "tool"]


Responder = Callable[[dict[str, Any]], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # hundreds of drafts in flight connect at once


class OpenAIServer:
    """A threaded HTTP server on 127.0.0.1 (a free port unless `port` is given); use as a
    context manager, or `start()` and `stop()`."""

    def __init__(
        self, responder: Responder | None = None, *, latency: float = 0.0, port: int = 0
    ) -> None:
        self.responder = responder
        self.latency = latency  # added before every answer
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler())
        # `stop()` waits for the serve loop's next poll: 20 ms, not the default half second
        # (most engine tests start and stop a server of their own).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies, answered in order before the responder is used."""
        with self._lock:
            self._script.extend(replies)

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        if self.responder is None:
            return error(500, "The fake server has no scripted reply left.")
        return self.responder(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real API

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(error(404, "unknown path"))
                    return
                reply = server._next(json.loads(raw or b"{}"))
                wait = reply.delay + server.latency
                if wait:
                    time.sleep(wait)
                self._send(reply)

            def setup(self) -> None:
                super().setup()
                # Answer in one segment without Nagle's delay, as a real API server would.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _send(self, reply: Reply) -> None:
                payload = json.dumps(reply.body).encode()
                head = [
                    f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(payload)}",
                    *(f"{name}: {value}" for name, value in reply.headers.items()),
                ]
                # A client that gave up (its timeout) has nobody left to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def one_tool_then_answer(name: str, arguments: dict[str, Any], answer: str) -> Responder:
    """A model that asks for one tool call, then answers `answer` once it has the result."""

    def respond(request: dict[str, Any]) -> Reply:
        if not tool_result_messages(request):
            return tool_call(name, arguments)
        return text(answer)

    return respond


def main() -> None:
    """Serve from its own process (benchmarks: the server must not share the app's GIL).

    Prints the base URL on the first line of stdout, then serves until stdin closes.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--tool", default="fetch_orders")
    parser.add_argument("--arguments", default="{}", help="JSON arguments of the tool call")
    parser.add_argument("--answer", required=True, help="the final answer's text")
    args = parser.parse_args()
    responder = one_tool_then_answer(args.tool, json.loads(args.arguments), args.answer)
    with OpenAIServer(responder, latency=args.latency) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
