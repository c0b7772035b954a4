"""A deterministic model for replay tests: a responder for `openai_server.OpenAIServer`.

The script: with `fetch_orders` offered and no tool result yet, call it with the first order
number in the ticket (or none); with a tool result, write a reply from it; else say no
lookup was possible. Token usage is counted from characters (4 per token), so answers and
usage depend only on the request: the same conversation always gets the same answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.openai_server import OpenAIServer, Reply, text, tool_call, tool_result_messages

ORDER = re.compile(r"\b[A-Z]{2,6}-\d{3,}\b")
MODEL = "scripted-1"


def scripted(request: dict[str, Any]) -> Reply:
    """The script's answer to one chat request."""
    messages = request.get("messages", [])
    offered = {t["function"]["name"] for t in request.get("tools", [])}
    user = next((m["content"] for m in messages if m["role"] == "user"), "")
    tokens_in = sum(len(m.get("content") or "") for m in messages) // 4
    model = request.get("model") or MODEL
    results = tool_result_messages(request)
    if results:
        data = json.loads(results[-1]["content"])
        orders = data.get("orders") or []
        if data.get("error"):
            answer = f"Scripted: the lookup failed ({data['error']['code']})."
        elif orders:
            answer = f"Scripted: order {orders[0].get('number')} is {orders[0].get('status')}."
        else:
            answer = "Scripted: no order found."
        return text(answer, tokens_in=tokens_in, tokens_out=len(answer) // 4, model=model)
    if "fetch_orders" in offered:
        numbers = ORDER.findall(user.split("<customer_message>")[-1])
        arguments = {"order_number": numbers[0]} if numbers else {}
        return tool_call(
            "fetch_orders",
            arguments,
            tokens_in=tokens_in,
            tokens_out=len(json.dumps(arguments)) // 4,
            model=model,
        )
    answer = "Scripted: I cannot look up orders here."
    return text(answer, tokens_in=tokens_in, tokens_out=len(answer) // 4, model=model)


def scripted_model() -> OpenAIServer:
    """The script served on a free port (a context manager; `base_url` is for the SDK)."""
    return OpenAIServer(responder=scripted)
