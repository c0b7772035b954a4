"""The loop through the real `openai` client against the local server: the happy path and
every provider fault, each retried within bounds and then failed with a readable reason."""

from __future__ import annotations

import time

import pytest

from audit.models import Span, Trace
from tests.copilot.agent.runs import limits, run
from tests.fakes import openai_server as fake

pytestmark = pytest.mark.django_db


def test_two_turn_where_is_my_order_run_gives_draft_and_full_trace(world, openai_server):
    openai_server.script(
        fake.delayed(
            fake.tool_call(
                "fetch_orders", {"order_number": "NW-2001"}, tokens_in=210, tokens_out=18
            ),
            0.2,
        ),
        fake.text(
            "Hello Ana, your order NW-2001 is on its way with DHL, tracking number JD0042.",
            tokens_in=340,
            tokens_out=25,
        ),
    )
    ticket = world.ticket("Hi, where is my order NW-2001? It has not arrived.")

    result = run(ticket)

    assert result.ok and result.text.startswith("Hello Ana, your order NW-2001")
    trace = result.trace
    assert trace.provider == "openai" and trace.model == fake.MODEL
    assert (trace.tokens_in, trace.tokens_out) == (550, 43)
    assert trace.iterations == 2 and trace.tool_calls_count == 1
    assert trace.tools_used == ["fetch_orders"] and trace.grounding == "grounded"
    kinds = [(s.kind, s.name) for s in trace.spans]
    assert kinds == [
        ("llm", "chat"),
        ("tool", "fetch_orders"),
        ("llm", "chat"),
        ("guardrail", "grounding_check"),
    ]
    first, tool, second = trace.spans[:3]
    assert first.attributes["gen_ai.usage.input_tokens"] == 210
    assert second.attributes["gen_ai.usage.output_tokens"] == 25
    assert first.result["tool_calls"] == [
        {"name": "fetch_orders", "arguments": {"order_number": "NW-2001"}}
    ]
    assert tool.result["orders"][0]["shipments"][0]["tracking_number"] == "JD0042"
    # Durations are measured, not filled in: the first reply took 0.2 s on the wire, and the
    # run lasted at least as long as its spans one after the other (each rounded to a ms).
    assert first.duration_ms >= 200 and second.duration_ms < first.duration_ms
    assert all(s.started_at for s in trace.spans)
    assert trace.latency_ms >= sum(s.duration_ms for s in trace.spans) - len(trace.spans)
    # What went over the wire: tools offered with tool_choice=auto, max_tokens, the tool result.
    request = openai_server.requests[0]
    assert request["tool_choice"] == "auto" and request["max_tokens"] == 800
    assert [t["function"]["name"] for t in request["tools"]] == ["fetch_orders"]
    assert fake.tool_result_messages(openai_server.requests[1])[0]["content"].count("JD0042") == 1


def test_brand_model_is_used_and_recorded(world, openai_server):
    world.brand.ai_model = "brand-special-model"
    world.brand.save()
    openai_server.script(fake.text("Hello, happy to help."))

    result = run(world.ticket("What are your opening hours?"))

    assert openai_server.requests[0]["model"] == "brand-special-model"
    assert result.trace.config["ai_model"] == "brand-special-model"


def test_rate_limit_then_success_honours_retry_after(world, openai_server):
    openai_server.script(
        fake.error(429, "slow down", headers={"Retry-After": "1"}),
        fake.text("Hello, we are open 9 to 5."),
    )
    started = time.monotonic()

    result = run(world.ticket("When are you open?"), limits=limits())

    assert result.ok and len(openai_server.requests) == 2
    assert time.monotonic() - started >= 1.0
    llm = [s for s in result.trace.spans if s.kind == Span.Kind.LLM]
    assert llm[0].status == Span.Status.ERROR
    assert llm[0].error["code"] == "provider_rate_limited"
    assert llm[1].status == Span.Status.OK and llm[1].attributes["attempt"] == 2


def test_retry_after_beyond_the_deadline_fails_at_once_with_a_reason(world, openai_server):
    openai_server.script(fake.error(429, "slow down", headers={"Retry-After": "30"}))
    started = time.monotonic()

    result = run(world.ticket("When are you open?"), limits=limits(run_deadline_seconds=5))

    assert time.monotonic() - started < 2
    assert result.outcome == Trace.Outcome.FAILED
    assert result.trace.error_code == "provider_rate_limited"
    assert result.reason == "The AI model is rate-limiting requests."


def test_server_errors_are_retried_within_bounds_then_fail(world, openai_server):
    openai_server.script(*[fake.error(503, "overloaded")] * 3)

    result = run(world.ticket("When are you open?"), limits=limits(provider_retries=2))

    assert len(openai_server.requests) == 3
    assert result.outcome == Trace.Outcome.FAILED
    assert result.trace.error_code == "provider_unavailable"
    assert result.reason == "The AI model is unavailable."


def test_provider_timeout_is_retried_then_fails(world, openai_server, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.script(*[fake.delayed(fake.text("too late"), 1.5)] * 2)

    result = run(world.ticket("When are you open?"), limits=limits(provider_retries=1))

    assert result.outcome == Trace.Outcome.FAILED
    assert result.trace.error_code == "provider_timeout"
    assert result.reason == "The AI model did not answer in time."
    assert len(openai_server.requests) == 2


def test_malformed_tool_arguments_reach_the_model_and_it_recovers(world, openai_server):
    openai_server.script(
        fake.tool_call("fetch_orders", '{"order_number": "NW-2001"'),  # cut-off JSON
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text("Your order NW-2001 is on its way with DHL (tracking number JD0042)."),
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits())

    assert result.ok and "JD0042" in result.text
    told = fake.tool_result_messages(openai_server.requests[1])[0]["content"]
    assert '"code": "invalid_arguments"' in told
    bad = next(s for s in result.trace.spans if s.kind == "tool" and s.status == "error")
    assert bad.error["code"] == "invalid_arguments"
    assert bad.arguments == {"invalid_json_chars": len('{"order_number": "NW-2001"')}


def test_malformed_tool_arguments_again_and_again_fail_the_draft(world, openai_server):
    openai_server.script(*[fake.tool_call("fetch_orders", "{not json")] * 4)

    result = run(world.ticket("Where is order NW-2001?"), limits=limits(provider_retries=2))

    assert result.outcome == Trace.Outcome.FAILED
    assert result.trace.error_code == "provider_bad_response"
    assert result.reason == "The AI model kept sending order lookups that could not be read."
    assert len(openai_server.requests) == 3


def test_empty_answer_is_retried_then_used(world, openai_server):
    openai_server.script(fake.empty(), fake.text("Hello, we ship within 2 days."))

    result = run(world.ticket("What shipping options do you have?"), limits=limits())

    assert result.ok and result.text == "Hello, we ship within 2 days."
    first = result.trace.spans[0]
    assert first.status == Span.Status.ERROR and first.error["code"] == "provider_bad_response"


def test_empty_answers_only_fail_with_a_reason(world, openai_server):
    openai_server.script(*[fake.empty()] * 3)

    result = run(world.ticket("What shipping options do you have?"), limits=limits())

    assert result.outcome == Trace.Outcome.FAILED
    assert result.reason == "The AI model returned an answer that could not be used."


def test_refusal_fails_with_a_reason(world, openai_server):
    openai_server.script(*[fake.refusal()] * 3)

    result = run(world.ticket("Tell me a joke"), limits=limits())

    assert result.outcome == Trace.Outcome.FAILED
    assert result.trace.error_code == "provider_refused"
    assert result.reason == "The AI model refused to write this reply."
