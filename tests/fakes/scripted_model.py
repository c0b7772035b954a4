"""A tiny OpenAI-compatible chat server on 127.0.0.1 with a fixed script, for replay tests.

It speaks `POST /v1/chat/completions` so the real `openai` SDK and provider talk to it. The
script: with `fetch_orders` offered and no tool result yet, call it with the first order
number in the ticket (or none); with a tool result, write a reply from it; else say no
lookup was possible. Token usage is counted from characters (4 per token), so answers and
usage depend only on the request: the same conversation always gets the same answer.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ORDER = re.compile(r"\b[A-Z]{2,6}-\d{3,}\b")
MODEL = "scripted-1"


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages", [])
    offered = {t["function"]["name"] for t in body.get("tools", [])}
    user = next((m["content"] for m in messages if m["role"] == "user"), "")
    tool_results = [m["content"] for m in messages if m["role"] == "tool"]
    prompt_tokens = sum(len(m.get("content") or "") for m in messages) // 4
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if tool_results:
        data = json.loads(tool_results[-1])
        orders = data.get("orders") or []
        if data.get("error"):
            text = f"Scripted: the lookup failed ({data['error']['code']})."
        elif orders:
            order = orders[0]
            text = f"Scripted: order {order.get('number')} is {order.get('status')}."
        else:
            text = "Scripted: no order found."
        message["content"] = text
    elif "fetch_orders" in offered:
        numbers = ORDER.findall(user.split("<customer_message>")[-1])
        arguments = json.dumps({"order_number": numbers[0]} if numbers else {})
        message["tool_calls"] = [
            {
                "id": "call_scripted_1",
                "type": "function",
                "function": {"name": "fetch_orders", "arguments": arguments},
            }
        ]
    else:
        message["content"] = "Scripted: I cannot look up orders here."
    completion_tokens = len(message["content"] or json.dumps(message.get("tool_calls"))) // 4
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model") or MODEL,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(body)
        payload = json.dumps(_answer(body)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict[str, Any]]


@contextmanager
def scripted_model() -> Iterator[_Server]:
    """Serve the script on a free port; `server.url` is the base URL for the SDK."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
