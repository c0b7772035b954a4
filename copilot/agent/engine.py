"""The tool-calling loop: bounded, predictable, stoppable, and traced whatever happens.

`run()` builds the conversation, asks the provider, executes the tool calls it asks for
through the safeguards, and loops until a final answer or a bound stops it. Nothing here
is vendor-specific; every decision the loop takes lands in a span.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.utils import timezone

from audit.models import Span, Trace
from audit.records import SpanData, TraceData
from audit.selectors import tokens_used_today
from copilot.agent import grounding, prompts, safeguards
from copilot.agent.providers.base import (
    ModelTurn,
    Provider,
    ProviderBadResponse,
    ProviderError,
    ProviderTimeout,
    ToolCall,
)
from copilot.conf import conf
from copilot.models import Brand, Ticket
from copilot.tools import Tool, ToolContext, ToolError, ToolOutput, get_tool
from orders.schema import normalize_order_number, order_numbers_in
from rollout.plan import Plan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineLimits:
    max_iterations: int
    run_deadline_seconds: float
    tool_timeout_seconds: float
    max_ticket_chars: int
    provider_retries: int

    @classmethod
    def from_settings(cls) -> EngineLimits:
        return cls(
            max_iterations=conf.COPILOT_MAX_ITERATIONS,
            run_deadline_seconds=conf.COPILOT_RUN_DEADLINE_SECONDS,
            tool_timeout_seconds=conf.COPILOT_TOOL_TIMEOUT_SECONDS,
            max_ticket_chars=conf.COPILOT_MAX_TICKET_CHARS,
            provider_retries=conf.OPENAI_MAX_RETRIES,
        )


@dataclass
class RunResult:
    """What a run produced: the draft text (if any), why it ended, and its trace."""

    text: str
    outcome: str
    reason: str
    trace: TraceData

    @property
    def ok(self) -> bool:
        return self.outcome == Trace.Outcome.ANSWERED


class _Run:
    """State of one run; the spans list is the trace being written."""

    def __init__(
        self,
        *,
        ticket: Ticket,
        plan: Plan,
        provider: Provider,
        limits: EngineLimits,
        on_span: Callable[[SpanData], None] | None = None,
        tools: Mapping[str, Tool] | None = None,
        today: dt.date | None = None,
    ):
        self.ticket = ticket
        # The run's date: what "tomorrow" or "on Friday" in the draft is read against.
        self.today = today or timezone.localdate()
        self.tools = tools
        self.on_span = on_span
        self.plan = plan
        self.provider = provider
        self.limits = limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.run_deadline_seconds
        self.spans: list[SpanData] = []
        self.tokens_in = 0
        self.tokens_out = 0
        self.iterations = 0
        self.tool_calls = 0
        self.tools_used: list[str] = []
        self.seen_calls: set[str] = set()
        self.tool_memo: dict[str, Any] = {}
        self.model = provider.model
        self.malformed_turns = 0
        self.known_order_numbers: set[str] = set()
        self.tool_results: list[Any] = []
        self.ticket_text = ""
        self.tokens_used_today: int | None = None

    # --- spans -----------------------------------------------------------------------
    def span(self, kind: str, name: str, started: float, **fields: Any) -> SpanData:
        span = SpanData(
            kind=kind,
            name=name,
            started_at=timezone.now() - dt.timedelta(seconds=time.monotonic() - started),
            duration_ms=round((time.monotonic() - started) * 1000),
            **fields,
        )
        self.spans.append(span)
        if self.on_span is not None:
            self.on_span(span)
        return span

    def guardrail(self, name: str, message: str, **attributes: Any) -> None:
        self.span(
            Span.Kind.GUARDRAIL,
            name,
            time.monotonic(),
            status=Span.Status.BLOCKED,
            error={"code": name, "message": message},
            attributes=attributes,
        )

    def refuse(self, code: str, noted: str, told: str, **attributes: Any) -> dict[str, Any]:
        """A safeguard stopped a tool call: a guardrail span saying `noted`, and the
        structured error telling the model `told`."""
        self.guardrail(code, noted, **attributes)
        return _error(code, told)

    def tool(self, name: str) -> Tool | None:
        """The tool `name` from the run's own tool set when it has one, else the registry."""
        return self.tools.get(name) if self.tools is not None else get_tool(name)

    # --- the loop ----------------------------------------------------------------------
    def messages(self) -> list[dict[str, Any]]:
        brand = self.ticket.brand
        customer = self.ticket.customer
        body, cut = safeguards.truncate(self.ticket.customer_text(), self.limits.max_ticket_chars)
        if cut:
            self.guardrail(
                "ticket_truncated",
                f"The ticket was cut to {self.limits.max_ticket_chars} characters.",
            )
        self.ticket_text = f"{self.ticket.subject}\n{body}"
        self.order_numbers = order_numbers_in(self.ticket_text)
        self.known_order_numbers = {normalize_order_number(n) for n in self.order_numbers}
        return [
            {
                "role": "system",
                "content": prompts.system_prompt(
                    brand_name=brand.name,
                    language=brand.reply_language,
                    tone=brand.tone,
                    signature=brand.signature,
                    knowledge=brand.knowledge,
                    available_tools=self.plan.available_tools,
                ),
            },
            {
                "role": "user",
                "content": prompts.ticket_prompt(
                    subject=self.ticket.subject,
                    body=body,
                    customer_identified=bool(customer and customer.is_identified),
                    order_numbers=self.order_numbers,
                ),
            },
        ]

    def execute(self) -> RunResult:
        messages = self.messages()
        tools = [t for t in (self.tool(name) for name in self.plan.available_tools) if t]
        specs = [tool.spec() for tool in tools]
        while True:
            if self.iterations >= self.limits.max_iterations:
                self.guardrail(
                    "loop_limit",
                    f"Stopped after {self.limits.max_iterations} model turns without an answer.",
                    max_iterations=self.limits.max_iterations,
                )
                return self.finish(
                    "",
                    Trace.Outcome.LOOP_LIMIT,
                    "The copilot stopped after too many steps without an answer.",
                    error_code="loop_limit",
                )
            if time.monotonic() >= self.deadline:
                return self.out_of_time()
            blocked = self.over_budget()
            if blocked:
                return blocked
            self.iterations += 1
            try:
                turn = self.ask(messages, specs)
            except ProviderError as error:
                if isinstance(error, ProviderTimeout) and time.monotonic() >= self.deadline - 0.05:
                    return self.out_of_time()
                return self.finish("", Trace.Outcome.FAILED, error.reason, error_code=error.code)
            if not turn.tool_calls:
                return self.finish(turn.text or "", Trace.Outcome.ANSWERED, "")
            if any(call.arguments is None for call in turn.tool_calls):
                self.malformed_turns += 1
                if self.malformed_turns > self.limits.provider_retries:
                    self.guardrail(
                        "malformed_tool_calls",
                        "The model kept sending tool arguments that are not valid JSON.",
                        malformed_turns=self.malformed_turns,
                    )
                    return self.finish(
                        "",
                        Trace.Outcome.FAILED,
                        "The AI model kept sending order lookups that could not be read.",
                        error_code=ProviderBadResponse.code,
                    )
            # The conversation replays the calls as the trace records them, so a value the
            # model was refused (another customer's number, an undeclared argument) is not
            # carried into later turns either.
            messages.append(
                _assistant_message(turn, [self.recordable(call) for call in turn.tool_calls])
            )
            for call in turn.tool_calls:
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": json.dumps(self.call(call)),
                    }
                )

    def out_of_time(self) -> RunResult:
        self.guardrail("deadline", "The run reached its deadline.")
        return self.finish(
            "", Trace.Outcome.DEADLINE, "The copilot ran out of time.", error_code="deadline"
        )

    def over_budget(self) -> RunResult | None:
        """Stop before a model call that the brand's daily token budget no longer covers."""
        brand = self.ticket.brand
        if not brand.daily_token_budget or not self.provider.metered:
            return None
        if self.tokens_used_today is None:
            self.tokens_used_today = tokens_used_today(brand)
        if not safeguards.budget_exhausted(
            budget=brand.daily_token_budget,
            used_today=self.tokens_used_today,
            used_in_run=self.tokens_in + self.tokens_out,
        ):
            return None
        used = self.tokens_used_today + self.tokens_in + self.tokens_out
        self.guardrail(
            "daily_token_budget",
            f"{brand.name} used {used} of its {brand.daily_token_budget} daily model tokens.",
            budget=brand.daily_token_budget,
            used=used,
        )
        return self.finish(
            "",
            Trace.Outcome.BLOCKED,
            f"No draft: {brand.name} has used its daily AI budget ({used:,} of "
            f"{brand.daily_token_budget:,} tokens). Drafts resume tomorrow, or an admin can "
            "raise the budget.",
            error_code="daily_token_budget",
        )

    def ask(self, messages: list[dict[str, Any]], specs: list[dict[str, Any]]) -> ModelTurn:
        """One model turn, retrying transient errors within the retry and time budget.

        A 429's Retry-After is honoured when the run's deadline leaves room for it; when it
        does not, the run fails at once rather than waiting past its deadline.
        """
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                turn = self.provider.complete(
                    messages, specs, timeout=max(0.1, self.deadline - time.monotonic())
                )
                if not turn.tool_calls and not (turn.text or "").strip():
                    raise ProviderBadResponse("The model returned an empty answer.")
            except ProviderError as error:
                self.span(
                    Span.Kind.LLM,
                    "chat",
                    started,
                    status=Span.Status.ERROR,
                    error={"code": error.code, "message": str(error), "retryable": error.retryable},
                    attributes={
                        "gen_ai.request.model": self.provider.model,
                        "attempt": attempt + 1,
                    },
                )
                wait = safeguards.retry_wait(attempt=attempt, retry_after=error.retry_after)
                if (
                    not error.retryable
                    or attempt >= self.limits.provider_retries
                    or time.monotonic() + wait >= self.deadline
                ):
                    raise
                time.sleep(wait)
                attempt += 1
                continue
            self.model = turn.model or self.model
            self.tokens_in += turn.usage.tokens_in
            self.tokens_out += turn.usage.tokens_out
            self.span(
                Span.Kind.LLM,
                "chat",
                started,
                result={
                    "text": turn.text or "",
                    "tool_calls": [
                        {"name": c.name, "arguments": self.recordable(c)} for c in turn.tool_calls
                    ],
                },
                attributes={
                    "gen_ai.request.model": self.provider.model,
                    "gen_ai.response.model": turn.model,
                    "gen_ai.usage.input_tokens": turn.usage.tokens_in,
                    "gen_ai.usage.output_tokens": turn.usage.tokens_out,
                    "attempt": attempt + 1,
                },
            )
            return turn

    def call(self, call: ToolCall) -> dict[str, Any]:
        """Run one tool call through the safeguards; always returns what the model is told."""
        tool = self.tool(call.name) if call.name in self.plan.available_tools else None
        if tool is None:
            return self.refuse(
                "tool_not_available",
                f"{call.name} is not available in this run.",
                f"The tool {call.name} is not available.",
            )
        if call.arguments is None:
            started = time.monotonic()
            invalid = ToolError("invalid_arguments", "The tool arguments were not valid JSON.")
            self.span(
                Span.Kind.TOOL,
                tool.name,
                started,
                arguments=self.recordable(call),
                status=Span.Status.ERROR,
                error=invalid.as_dict(),
                attributes={"gen_ai.tool.name": tool.name, "gen_ai.tool.call.id": call.id},
            )
            return {"error": invalid.as_dict()}
        scoped = safeguards.scope_arguments(
            tool.parameters, call.arguments, self.known_order_numbers
        )
        if scoped.unexpected:
            return self.refuse(
                "unexpected_arguments",
                f"{tool.name} does not take {', '.join(scoped.unexpected)}; the call was refused.",
                f"{tool.name} does not take {', '.join(scoped.unexpected)}. The customer is "
                "always the one of this ticket.",
                arguments=scoped.recorded,
            )
        if scoped.foreign_order_number:
            return self.refuse(
                "order_number_not_in_ticket",
                f"{tool.name} refused an order number the customer did not give.",
                "Only order numbers the customer wrote can be looked up; ask the customer.",
                arguments=scoped.recorded,
            )
        key = safeguards.call_key(call.name, call.arguments)
        if key in self.seen_calls:
            return self.refuse(
                "repeated_call",
                f"{call.name} was already called with the same arguments in this run.",
                "You already made this exact call; use its result instead of calling again.",
                arguments=call.arguments,
            )
        self.seen_calls.add(key)
        if not tool.may_run_for(self.ticket.customer, call.arguments):
            return self.refuse(
                "missing_customer_context",
                f"{tool.name} blocked: no verified customer email and no order number.",
                "The customer is not identified and gave no order number; ask for one.",
            )

        self.tool_calls += 1
        if tool.name not in self.tools_used:
            self.tools_used.append(tool.name)
        context = ToolContext(
            brand=self.ticket.brand,
            ticket=self.ticket,
            customer=self.ticket.customer,
            ticket_order_numbers=self.order_numbers,
            deadline=min(self.deadline, time.monotonic() + self.limits.tool_timeout_seconds),
            memo=self.tool_memo,
        )
        started = time.monotonic()
        attributes = {"gen_ai.tool.name": tool.name, "gen_ai.tool.call.id": call.id}
        output, error = execute_tool(tool, context, call.arguments)
        if output is None:
            # execute_tool returns an output or an error; a missing error is still a failure.
            error = error or ToolError("tool_failed", f"{tool.name} failed.").as_dict()
            self.span(
                Span.Kind.TOOL,
                tool.name,
                started,
                arguments=call.arguments,
                status=Span.Status.ERROR,
                error=error,
                attributes=attributes,
            )
            return _error(error["code"], error["message"], retryable=error["retryable"])
        self.span(
            Span.Kind.TOOL,
            tool.name,
            started,
            arguments=call.arguments,
            result=output.data,
            attributes={**attributes, **output.attributes},
        )
        self.tool_results.append(output.data)
        for order in output.data.get("orders") or []:
            if isinstance(order, dict) and order.get("number"):
                self.known_order_numbers.add(normalize_order_number(str(order["number"])))
        return output.data

    def recordable(self, call: ToolCall) -> dict[str, Any]:
        """A model's tool-call arguments as the trace may keep them: undeclared arguments and
        order numbers the ticket did not give are withheld, unreadable JSON is not stored."""
        if call.arguments is None:
            return {"invalid_json_chars": len(call.raw_arguments)}
        tool = self.tool(call.name)
        if tool is None:
            return {key: safeguards.WITHHELD_NOT_A_PARAMETER for key in call.arguments}
        return safeguards.scope_arguments(
            tool.parameters, call.arguments, self.known_order_numbers
        ).recorded

    def check_grounding(self, text: str) -> str:
        """Label the final draft and record the check as a span; returns the label."""
        started = time.monotonic()
        brand = self.ticket.brand
        report = grounding.check(
            text,
            tool_results=self.tool_results,
            ticket_text=self.ticket_text,
            brand_texts=[*brand.knowledge.values(), brand.signature, brand.name],
            today=self.today,
        )
        unverified = report.label == grounding.UNVERIFIED
        self.span(
            Span.Kind.GUARDRAIL,
            "grounding_check",
            started,
            result=report.as_dict(),
            status=Span.Status.ERROR if unverified else Span.Status.OK,
            error={
                "code": "unverified_facts",
                "message": "The draft states order facts that no tool result or ticket backs.",
            }
            if unverified
            else None,
        )
        return report.label

    def finish(self, text: str, outcome: str, reason: str, *, error_code: str = "") -> RunResult:
        text = text.strip()
        label = self.check_grounding(text) if outcome == Trace.Outcome.ANSWERED else ""
        trace = TraceData(
            provider=self.provider.name,
            model=self.model,
            prompt_version=prompts.VERSION,
            plan=self.plan.as_dict(),
            outcome=outcome,
            iterations=self.iterations,
            tool_calls_count=self.tool_calls,
            tools_used=self.tools_used,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            latency_ms=round((time.monotonic() - self.started) * 1000),
            error_code=error_code,
            grounding=label,
            config=brand_config(self.ticket.brand),
            spans=self.spans,
        )
        return RunResult(text=text, outcome=outcome, reason=reason, trace=trace)


def brand_config(brand: Brand) -> dict[str, Any]:
    """The brand's copilot settings as the trace records them."""
    return {
        "reply_language": brand.reply_language,
        "tone": brand.tone,
        "signature": brand.signature,
        "ai_model": brand.ai_model,
        "prompt_version": brand.prompt_version,
        "knowledge_topics": sorted(brand.knowledge),
        "daily_token_budget": brand.daily_token_budget,
    }


TOOL_DEADLINE_GRACE_SECONDS = 0.25


def execute_tool(
    tool: Tool, context: ToolContext, arguments: dict[str, Any]
) -> tuple[ToolOutput, None] | tuple[None, dict[str, Any]]:
    """Run a tool within the context's deadline: its output, or the structured error for
    the trace (`{code, message, retryable}`, plus the exception's type if it crashed)."""
    try:
        return _run_tool(tool, context, arguments, context.remaining()), None
    except ToolError as error:
        return None, error.as_dict()
    except Exception as exc:
        logger.exception("copilot.engine.tool_crashed", extra={"tool": tool.name})
        crashed = ToolError("tool_failed", f"{tool.name} failed unexpectedly.")
        return None, {**crashed.as_dict(), "exception": type(exc).__name__}


def _run_tool(
    tool: Tool, context: ToolContext, arguments: dict[str, Any], timeout: float
) -> ToolOutput:
    """Run a tool handler and give up on it after `timeout` seconds, whatever it is doing.

    Connectors honour `context.deadline` for their own I/O, but a handler can still hang
    (a socket that trickles bytes, a stuck driver call), and Python cannot interrupt a
    thread. So the handler runs in its own daemon thread and the run stops waiting at the
    timeout: the model is told `tool_timeout`, and the abandoned thread may only finish a
    read whose result is dropped (tools never write).

    The thread opens its own database connection and closes it when the handler returns,
    as in production. One exception: an in-memory SQLite database inside a transaction (the
    test suite's database, inside a test's transaction) can only be read through the
    caller's connection, so the thread borrows it, as Django's LiveServerThread does. Tests
    that need the thread's own connection (one that outlives the run, a connection pool)
    use `django_db(transaction=True)`.
    """
    from django.db.backends.sqlite3.base import DatabaseWrapper as SQLite

    box: dict[str, Any] = {}
    done = threading.Event()
    borrowed = {
        conn.alias: conn
        for conn in connections.all(initialized_only=True)
        if isinstance(conn, SQLite) and conn.is_in_memory_db() and conn.in_atomic_block
    }

    def work() -> None:
        for alias, conn in borrowed.items():
            conn.inc_thread_sharing()
            connections[alias] = conn
        try:
            box["output"] = tool.handler(context, arguments)
        except BaseException as error:  # re-raised in the run's thread below
            box["error"] = error
        finally:
            connections.close_all()  # an in-memory database ignores it: borrowed ones stay open
            for conn in borrowed.values():
                conn.dec_thread_sharing()
            done.set()

    threading.Thread(target=work, name=f"copilot-tool-{tool.name}", daemon=True).start()
    # A short grace past the deadline lets a tool that honours it report its own, more
    # precise error (order_source_timeout); the hard cut is the backstop for one that does not.
    if not done.wait(max(0.0, timeout) + TOOL_DEADLINE_GRACE_SECONDS):
        logger.warning("copilot.engine.tool_timeout", extra={"tool": tool.name, "timeout": timeout})
        raise ToolError(
            "tool_timeout",
            f"{tool.name} did not answer within {timeout:.1f} seconds.",
            retryable=True,
        )
    if "error" in box:
        raise box["error"]
    return box["output"]


def _error(code: str, message: str, *, retryable: bool = False) -> dict[str, Any]:
    """What the model is told of a refused or failed call."""
    return {"error": ToolError(code, message, retryable=retryable).as_dict()}


def _assistant_message(turn: ModelTurn, arguments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": turn.text,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(args)},
            }
            for call, args in zip(turn.tool_calls, arguments, strict=True)
        ],
    }


def run(
    *,
    ticket: Ticket,
    plan: Plan,
    provider: Provider,
    limits: EngineLimits | None = None,
    on_span: Callable[[SpanData], None] | None = None,
    tools: Mapping[str, Tool] | None = None,
    today: dt.date | None = None,
) -> RunResult:
    """Run the copilot on `ticket` with what `plan` allows; never raises for model or tool faults.

    `on_span` is called with each span as it is recorded (live progress); the trace itself is
    returned whole in the result, to be stored once. `tools`, when given, is the only place
    the plan's tools are looked up (replay answers from recorded results this way). `today`
    is the date the grounding check reads relative dates against: the run's own by default,
    the recorded run's for a replay, whose tool results date from then.
    """
    return _Run(
        ticket=ticket,
        plan=plan,
        provider=provider,
        limits=limits or EngineLimits.from_settings(),
        on_span=on_span,
        tools=tools,
        today=today,
    ).execute()
