"""A tool set that answers from a past run's recorded tool spans, never from a live system.

The trace stores, for every tool call, the arguments and exactly the data the model was
handed back. Replaying a ticket offers the same tools (same names, descriptions and
schemas, so the model sees what it saw then) whose handlers look the call up by tool name
and normalized arguments. A call the original run never made has no data as of then: it
answers the structured error `not_recorded`, and the order system is never asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from audit.models import Span
from copilot.agent.safeguards import call_key
from copilot.tools import Tool, ToolContext, ToolError, ToolOutput, get_tool

NOT_RECORDED = "not_recorded"


def recorded_tools(*, spans: Iterable[Span], names: Iterable[str]) -> dict[str, Tool]:
    """The registered tools `names`, each answering only from the recorded tool `spans`.

    When the same call was recorded twice, the first answer is the one the model saw first.
    """
    recordings: dict[str, Span] = {}
    for span in spans:
        if span.kind == Span.Kind.TOOL and isinstance(span.arguments, dict):
            recordings.setdefault(call_key(span.name, span.arguments), span)
    tools: dict[str, Tool] = {}
    for name in names:
        live = get_tool(name)
        if live is not None:
            tools[name] = dataclasses.replace(live, handler=_answer_from(name, recordings))
    return tools


def _answer_from(
    name: str, recordings: dict[str, Span]
) -> Callable[[ToolContext, dict[str, Any]], ToolOutput]:
    def handler(context: ToolContext, arguments: dict[str, Any]) -> ToolOutput:
        span = recordings.get(call_key(name, arguments))
        if span is None:
            raise ToolError(
                NOT_RECORDED,
                f"The original run never called {name} with these arguments, so there is "
                "no recorded data to answer with.",
            )
        if span.status != Span.Status.OK:
            error = span.error or {}
            raise ToolError(
                str(error.get("code") or "tool_failed"),
                str(error.get("message") or f"{name} failed in the original run."),
                retryable=bool(error.get("retryable")),
            )
        if not isinstance(span.result, dict):
            # A successful tool span stores the dict the model was handed; anything else is
            # not data this run can answer with.
            raise ToolError(NOT_RECORDED, f"The original run recorded no data for {name}.")
        attributes: dict[str, Any] = {"replay.recorded_span": span.seq}
        if isinstance(span.attributes, dict) and span.attributes.get("findings"):
            # The data-quality findings as recorded: replay judges the same data, not today's.
            attributes["findings"] = span.attributes["findings"]
        return ToolOutput(data=span.result, attributes=attributes)

    return handler
