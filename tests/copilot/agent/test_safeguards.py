"""One test per safeguard of the loop, through the real client and the local server where a
model is involved, and through the offline rules provider where the fixed workflow is."""

from __future__ import annotations

import json
import threading
import time

import pytest

from audit.models import Span, Trace
from copilot.agent.engine import TOOL_DEADLINE_GRACE_SECONDS
from copilot.models import Draft
from copilot.services import draft_generate, draft_request
from orders.connectors.base import ConnectorUnavailable
from orders.connectors.demo import DemoConnector
from rollout.flags import FETCH_ORDERS
from rollout.models import BrandFlag
from tests.copilot.agent.runs import limits, run
from tests.factories import CustomerFactory, DraftFactory
from tests.fakes import openai_server as fake

pytestmark = pytest.mark.django_db


def guardrails(result) -> list[str]:
    return [s.name for s in result.trace.spans if s.kind == Span.Kind.GUARDRAIL]


def told(server, request_index: int) -> list[dict]:
    """The tool results the engine sent back to the model in one request."""
    return [
        json.loads(m["content"]) for m in fake.tool_result_messages(server.requests[request_index])
    ]


def test_model_calling_the_tool_forever_stops_at_the_cap(world, openai_server):
    openai_server.responder = lambda request: fake.tool_call(
        "fetch_orders", {"order_number": "NW-2001"}
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits(max_iterations=4))

    assert result.outcome == Trace.Outcome.LOOP_LIMIT
    assert result.trace.error_code == "loop_limit" and result.trace.iterations == 4
    assert len(openai_server.requests) == 4
    assert guardrails(result)[-1] == "loop_limit"
    assert result.reason == "The copilot stopped after too many steps without an answer."


def test_repeated_tool_call_is_refused_and_traced(world, openai_server):
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.tool_call("fetch_orders", {"order_number": "#nw-2001 "}),  # same, once normalized
        fake.text("Your order NW-2001 is on its way with DHL."),
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits())

    assert result.ok
    assert [s.name for s in result.trace.spans if s.kind == "tool"] == ["fetch_orders"]
    assert "repeated_call" in guardrails(result)
    assert told(openai_server, 2)[-1]["error"]["code"] == "repeated_call"


# Its tool thread outlives the run (released at the end): it reads on a connection of its own.
@pytest.mark.django_db(transaction=True)
def test_hanging_tool_is_cut_at_its_timeout_and_the_draft_still_comes_back(
    world, openai_server, monkeypatch
):
    release = threading.Event()

    def hang(self, *, number, timeout):  # ignores its timeout, like a stuck driver call
        release.wait(30)
        return None

    monkeypatch.setattr(DemoConnector, "order_by_number", hang)
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text("We could not read your order status right now; we will come back to you."),
    )
    started = time.monotonic()
    try:
        result = run(
            world.ticket("Where is order NW-2001?"), limits=limits(tool_timeout_seconds=0.5)
        )
    finally:
        release.set()

    assert time.monotonic() - started < 3
    assert result.ok
    tool = next(s for s in result.trace.spans if s.kind == "tool")
    assert tool.status == Span.Status.ERROR and tool.error["code"] == "tool_timeout"
    # Cut at the 0.5 s timeout plus the grace the engine leaves a tool to report its own error.
    cut_ms = (0.5 + TOOL_DEADLINE_GRACE_SECONDS) * 1000
    assert cut_ms - 50 <= tool.duration_ms < cut_ms + 500
    assert told(openai_server, 1)[0]["error"] == {
        "code": "tool_timeout",
        "message": "fetch_orders did not answer within 0.5 seconds.",
        "retryable": True,
    }


def test_order_api_error_reaches_the_model_as_a_structured_error(world, openai_server, monkeypatch):
    def unavailable(self, *, number, timeout):
        raise ConnectorUnavailable("The order system answered HTTP 503.")

    monkeypatch.setattr(DemoConnector, "order_by_number", unavailable)
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text("We cannot read your order status right now; we will check and reply."),
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits())

    assert result.ok and result.text.startswith("We cannot read your order status")
    error = {
        "code": "order_source_unavailable",
        "message": "The order system answered HTTP 503.",
        "retryable": True,
    }
    assert told(openai_server, 1) == [{"error": error}]
    tool = next(s for s in result.trace.spans if s.kind == "tool")
    assert tool.status == Span.Status.ERROR and tool.error == error


def test_order_api_error_with_the_rules_provider_still_gives_a_draft(world, monkeypatch):
    def unavailable(self, *, number, timeout):
        raise ConnectorUnavailable("The order system answered HTTP 503.")

    monkeypatch.setattr(DemoConnector, "order_by_number", unavailable)

    result = run(world.ticket("Where is order NW-2001?"), "rules")

    assert result.ok and "could not read the status of your order" in result.text


def test_no_identified_customer_runs_no_tool_and_asks_for_the_order_number(world, openai_server):
    stranger = CustomerFactory(brand=world.brand, email="someone@example.com", email_verified=False)
    openai_server.script(
        fake.tool_call("fetch_orders", {}),
        fake.text("Could you send us your order number?"),
    )

    result = run(world.ticket("where is my parcel??", customer=stranger), limits=limits())

    assert result.ok
    assert not [s for s in result.trace.spans if s.kind == "tool"]
    assert result.trace.tool_calls_count == 0
    assert "missing_customer_context" in guardrails(result)
    assert told(openai_server, 1)[0]["error"] == {
        "code": "missing_customer_context",
        "message": "The customer is not identified and gave no order number; ask for one.",
        "retryable": False,
    }
    assert (
        "Customer identified by the helpdesk: no"
        in openai_server.requests[0]["messages"][1]["content"]
    )


def test_an_unidentified_customer_call_without_the_order_number_is_refused_by_the_gate(
    world, openai_server
):
    # The ticket names an order, but the model asks for "all their orders": nothing to scope
    # that to, so the gate refuses it before the tool runs.
    stranger = CustomerFactory(brand=world.brand, email="someone@example.com", email_verified=False)
    openai_server.script(
        fake.tool_call("fetch_orders", {}),
        fake.text("Could you confirm your order number?"),
    )

    result = run(world.ticket("Where is order NW-2001?", customer=stranger), limits=limits())

    assert not [s for s in result.trace.spans if s.kind == "tool"]
    assert result.trace.tool_calls_count == 0
    assert "missing_customer_context" in guardrails(result)
    assert told(openai_server, 1)[0]["error"]["code"] == "missing_customer_context"


def test_no_identified_customer_with_rules_provider_asks_for_the_order_number(world):
    stranger = CustomerFactory(brand=world.brand, email="someone@example.com", email_verified=False)

    result = run(world.ticket("where is my parcel??", customer=stranger), "rules")

    assert result.ok and "could you send us your order number" in result.text
    assert not [s for s in result.trace.spans if s.kind == "tool"]
    assert "missing_customer_context" in guardrails(result)
    assert result.trace.grounding == "generative"


def test_tool_outside_the_plan_is_not_offered_and_refused(world, openai_server):
    flag = BrandFlag.objects.get(name=FETCH_ORDERS)
    flag.brands.remove(world.brand)
    flag.flush()
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text("A colleague will check your order."),
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits())

    request = openai_server.requests[0]
    assert "tools" not in request
    assert "You cannot look up orders" in request["messages"][0]["content"]
    assert "tool_not_available" in guardrails(result)
    assert not [s for s in result.trace.spans if s.kind == "tool"]


def test_oversized_ticket_is_truncated_and_traced(world, openai_server):
    openai_server.script(fake.text("Hello, thanks for the details."))

    result = run(world.ticket("blah " * 2000), limits=limits(max_ticket_chars=500))

    user = openai_server.requests[0]["messages"][1]["content"]
    assert "[... message truncated ...]" in user and len(user) < 1000
    assert "ticket_truncated" in guardrails(result)


def test_run_deadline_stops_a_slow_conversation(world, openai_server):
    openai_server.responder = lambda request: fake.delayed(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}), 0.4
    )

    result = run(
        world.ticket("Where is order NW-2001?"),
        limits=limits(run_deadline_seconds=1.0, max_iterations=10),
    )

    assert result.outcome == Trace.Outcome.DEADLINE
    assert result.reason == "The copilot ran out of time."
    assert "deadline" in guardrails(result)
    assert result.trace.latency_ms < 2500  # ten 0.4 s turns would take 4 s


def _spend(world, tokens: int) -> None:
    draft = DraftFactory(ticket=world.ticket("earlier"), status=Draft.Status.READY)
    Trace.objects.create(
        brand=world.brand,
        ticket=draft.ticket,
        draft=draft,
        provider="openai",
        outcome=Trace.Outcome.ANSWERED,
        tokens_in=tokens - 100,
        tokens_out=100,
    )


def test_daily_token_budget_blocks_the_draft_with_a_reason(world, openai_server):
    world.brand.daily_token_budget = 5000
    world.brand.save()
    _spend(world, 5200)
    draft = draft_request(ticket=world.ticket("Where is order NW-2001?"), enqueue=False)

    draft_generate(draft_id=draft.pk, provider_name="openai")

    draft.refresh_from_db()
    assert draft.status == Draft.Status.BLOCKED
    assert draft.status_reason == (
        f"No draft: {world.brand.name} has used its daily AI budget (5,200 of 5,000 tokens). "
        "Drafts resume tomorrow, or an admin can raise the budget."
    )
    assert openai_server.requests == []
    trace = Trace.objects.get(draft=draft)
    assert trace.outcome == Trace.Outcome.BLOCKED and trace.error_code == "daily_token_budget"
    span = trace.spans.get(name="daily_token_budget")
    assert span.kind == Span.Kind.GUARDRAIL and span.attributes == {"budget": 5000, "used": 5200}


def test_daily_token_budget_stops_a_run_that_crosses_it(world, openai_server):
    world.brand.daily_token_budget = 1000
    world.brand.save()
    _spend(world, 700)
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}, tokens_in=300, tokens_out=20),
        fake.text("never asked"),
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits())

    assert result.outcome == Trace.Outcome.BLOCKED
    assert len(openai_server.requests) == 1


def test_daily_token_budget_does_not_block_the_offline_provider(world):
    world.brand.daily_token_budget = 10
    world.brand.save()
    _spend(world, 500)

    result = run(world.ticket("Where is order NW-2001?"), "rules")

    assert result.ok and "JD0042" in result.text


def test_provider_failure_gives_a_failed_draft_an_agent_can_read(world, openai_server, settings):
    settings.OPENAI_MAX_RETRIES = 1
    openai_server.script(fake.error(500, "boom"), fake.error(502, "bad gateway"))
    draft = draft_request(ticket=world.ticket("When are you open?"), enqueue=False)

    draft_generate(draft_id=draft.pk, provider_name="openai")

    draft.refresh_from_db()
    assert draft.status == Draft.Status.FAILED
    assert draft.status_reason == "The AI model is unavailable."
    assert draft.trace.outcome == Trace.Outcome.FAILED
    assert draft.trace.error_code == "provider_unavailable"


def test_fields_outside_the_brand_allow_list_never_reach_model_or_trace(world, openai_server):
    world.order.shipping_address = "1 Secret Street, Springfield"
    world.order.phone = "+1 555 0100"
    world.order.save()
    openai_server.script(
        fake.tool_call("fetch_orders", {"order_number": "NW-2001"}),
        fake.text("Your order NW-2001 is on its way with DHL."),
    )

    result = run(world.ticket("Where is order NW-2001?"), limits=limits())

    sent = json.dumps(openai_server.requests)
    traced = json.dumps([[s.arguments, s.result] for s in result.trace.spans])
    for private in ("1 Secret Street", "+1 555 0100", "ana@example.com"):
        assert private not in sent and private not in traced
    assert "JD0042" in sent and "JD0042" in traced
