"""A local OpenAI-compatible model whose faults are set by the test: latency, 429/503 storms
with Retry-After, a tool call on the first turn. A responder of `openai_server.OpenAIServer`,
so the real `openai` SDK talks to it over HTTP.

    with SlowModel(delay=2.0) as model:   # model.url -> OPENAI_BASE_URL
        ...
    model.requests  # what it was asked, in order

Run alone (for a worker in another process or a benchmark):
`python -m tests.fakes.slow_model --delay 2 --port 8765`.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.openai_server import OpenAIServer, Reply, delayed, error, text, tool_call


@dataclass(frozen=True)
class Request:
    """One request the server received: when (monotonic), the ticket's subject line, whether
    it carried a tool result, what it answered."""

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
    - With `answer_gate` given, a turn carrying a tool result is answered only once the
      event is set (at most a minute later): the test decides when an answer is written.
    """

    delay: float = 0.0
    tool_call: str | None = None
    tool_delay: float = 0.0
    fail_first: int = 0
    fail_status: int = 429
    retry_after: float = 1.0
    port: int = 0
    answer_gate: threading.Event | None = None
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._served = 0
        self._server = OpenAIServer(self._answer, port=self.port)

    @property
    def url(self) -> str:
        return self._server.base_url

    def start(self) -> SlowModel:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

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

    def _answer(self, payload: dict[str, Any]) -> Reply:
        messages = payload.get("messages") or []
        user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        subject = user.split("\n", 1)[0].removeprefix("Ticket subject:").strip()
        has_tool_result = any(m.get("role") == "tool" for m in messages)
        with self._lock:
            self._served += 1
            failing = self._served <= self.fail_first
            status = self.fail_status if failing else 200
            self.requests.append(Request(time.monotonic(), subject, has_tool_result, status))
        if failing:
            return error(status, "Slow down.", headers={"Retry-After": f"{self.retry_after:g}"})
        offered = {t.get("function", {}).get("name") for t in payload.get("tools") or []}
        model = payload.get("model") or "slow-model"
        if self.tool_call and self.tool_call in offered and not has_tool_result:
            return delayed(tool_call(self.tool_call, {}, model=model), self.tool_delay)
        if has_tool_result and self.answer_gate is not None:
            self.answer_gate.wait(timeout=60)
        answer = f"Hello, about '{subject}': we are on it."
        return delayed(text(answer, tokens_in=50, tokens_out=12, model=model), self.delay)


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
