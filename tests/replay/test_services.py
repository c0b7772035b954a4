"""Replay on recorded order data: deterministic, never live, and figures that add up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from audit.models import Span, Trace
from orders.connectors.base import ConnectorUnavailable
from orders.connectors.demo import DemoConnector
from orders.models import DemoOrder, DemoShipment
from replay.exceptions import NoTicketsToReplay, ReplayError
from replay.models import ReplayConfiguration, ReplayItem, ReplayResult, ReplayRun
from replay.selectors import ReplayFilters, replay_report, report_as_dict
from replay.services import replay_advance, replay_config_save, replay_start
from replay.similarity import edit_similarity
from tests.factories import BrandFactory
from tests.fakes.scripted_model import scripted_model

TODAY = timezone.now().date()


def run_to_end(run: ReplayRun) -> ReplayRun:
    for _ in range(run.total + 1):
        run = replay_advance(run_id=run.pk)
        if run.status == ReplayRun.Status.DONE:
            return run
    raise AssertionError("the run did not finish")


def fingerprint(run: ReplayRun) -> list[dict]:
    """Everything a result says, except what a clock measures (latency)."""
    rows = []
    for result in ReplayResult.objects.filter(item__run=run).order_by("item__seq", "side"):
        data = model_to_dict(result, exclude=["id", "item", "latency_ms"])
        data["ticket"] = result.item.ticket_id
        rows.append(data)
    return rows


@pytest.fixture
def four_tickets(brand, past_ticket):
    """Two order questions (accepted; edited), an hours question (rejected), and an order
    question from an unidentified customer with no number (left undecided)."""
    t1 = past_ticket(brand, body="Where is my order NW-1001?", order="NW-1001", tracking="JD1")
    t2 = past_ticket(
        brand,
        body="Hi, order NW-1002 has not arrived",
        order="NW-1002",
        tracking="JD2",
        decision="edit",
        append="\nHave a nice day!",
    )
    t3 = past_ticket(
        brand, subject="Opening hours", body="What are your opening hours?", decision="reject"
    )
    t4 = past_ticket(brand, body="Where is my parcel?", identified=False, decision=None)
    return [Trace.objects.select_related("draft").get(pk=t.pk) for t in (t1, t2, t3, t4)]


def test_the_same_configuration_twice_gives_identical_results_even_if_orders_changed(
    brand, four_tickets, rules_config
):
    config = rules_config(brand)
    first = run_to_end(
        replay_start(brand=brand, config_a=config, filters=ReplayFilters(since=TODAY))
    )
    # The order system moves on; a replay must still read the orders as they were.
    DemoOrder.objects.filter(brand=brand).update(status="delivered")
    DemoShipment.objects.filter(order__brand=brand).update(tracking_number="CHANGED1")
    second = run_to_end(
        replay_start(brand=brand, config_a=config, filters=ReplayFilters(since=TODAY))
    )

    assert first.done == second.done == 4
    assert fingerprint(first) == fingerprint(second)
    # And replaying the live configuration reproduces the live drafts word for word.
    texts = [r["text"] for r in fingerprint(first)]
    assert texts == [t.draft.body for t in four_tickets]
    assert "JD1" in texts[0] and "JD2" in texts[1]


def test_the_scripted_model_replayed_twice_gives_identical_results(brand, four_tickets, settings):
    with scripted_model() as server:
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_API_KEY = "test-key"
        settings.OPENAI_MAX_RETRIES = 0
        config = replay_config_save(
            brand=brand,
            name="scripted",
            values={
                "provider": "openai",
                "model": "scripted-1",
                "tools": ["fetch_orders"],
                "price_in_per_mtok": Decimal("2.5"),
                "price_out_per_mtok": Decimal("10"),
            },
        )
        runs = [
            run_to_end(
                replay_start(brand=brand, config_a=config, filters=ReplayFilters(since=TODAY))
            )
            for _ in range(2)
        ]
        assert len(server.requests) >= 2 * 4

    first, second = (fingerprint(run) for run in runs)
    assert first == second
    order_result = first[0]
    assert order_result["text"] == "Scripted: order NW-1001 is in_transit."
    assert order_result["model"] == "scripted-1"
    assert order_result["tokens_in"] > 0 and order_result["cost"] == (
        (
            Decimal(order_result["tokens_in"]) * Decimal("2.5")
            + Decimal(order_result["tokens_out"]) * Decimal("10")
        )
        / 1_000_000
    ).quantize(Decimal("0.000001"))


def test_report_of_two_configurations_matches_hand_computed_figures(
    brand, four_tickets, rules_config
):
    t1, t2, _, _ = four_tickets
    with_tools = rules_config(brand, "with-tools")
    without = rules_config(brand, "no-tools", tools=[])
    run = run_to_end(
        replay_start(
            brand=brand, config_a=with_tools, config_b=without, filters=ReplayFilters(since=TODAY)
        )
    )
    report = replay_report(run)
    a, b = report.sides

    no_lookup = (
        "Hello,\n\nThank you for your message. A member of our team will look into your "
        "order and get back to you shortly.\n\nThe team"
    )
    # t2's sent text is its draft plus 17 normalized characters (" have a nice day!").
    s2 = 1 - 17 / (len(" ".join(t2.draft.body.lower().split())) + 17)
    assert (a.config, b.config) == ("with-tools v1", "no-tools v1")
    assert (a.results, b.results) == (4, 4)
    assert a.outcomes == b.outcomes == {"answered": 4}
    assert (a.called_tools, a.tool_calls, a.tool_call_rate) == (2, 2, 0.5)
    assert (b.called_tools, b.tool_calls, b.tool_call_rate) == (0, 0, 0.0)
    assert (a.decision_same, a.decision_added, a.decision_dropped) == (4, 0, 0)
    assert (b.decision_same, b.decision_added, b.decision_dropped) == (2, 0, 2)
    assert a.safeguards == {"missing_customer_context": 1}
    assert b.safeguards == {}
    assert a.similarity_count == b.similarity_count == 2  # t3 was rejected, t4 never sent
    assert a.similarity_mean == pytest.approx((1.0 + s2) / 2)
    assert b.similarity_mean == pytest.approx(
        (
            edit_similarity(no_lookup, t1.draft.final_text)
            + edit_similarity(no_lookup, t2.draft.final_text)
        )
        / 2
    )
    assert (a.tokens_in, a.tokens_out, a.cost, a.not_recorded) == (0, 0, Decimal("0"), 0)
    assert report.both_called == 0
    assert report.only_a_called == 2
    assert report.only_b_called == 0
    assert report.neither_called == 2
    assert report.same_text == 1  # only the hours answer is the same without tools
    assert report_as_dict(report)["sides"][0]["cost"] == "0.000000"


def test_report_aggregates_stored_results_exactly(brand, past_ticket, rules_config):
    """Tokens, cost, latency percentiles, grounding, safeguards on hand-written results."""
    traces = [
        past_ticket(brand, body=f"Where is my order NW-20{i}?", order=f"NW-20{i}")
        for i in range(1, 5)
    ]
    config = rules_config(brand)
    run = ReplayRun.objects.create(brand=brand, config_a=config, total=4, done=4)
    rows = [
        # latency, tokens in, tokens out, cost, grounding, safeguards, similarity, tool calls
        (120, 100, 20, "0.000450", "grounded", [], 1.0, 1),
        (80, 200, 40, "0.000900", "grounded", ["repeated_call"], 0.5, 2),
        (300, 50, 10, "0.000225", "unverified", ["loop_limit", "repeated_call"], None, 0),
        (40, 0, 0, "0", "", [], 0.25, 0),
    ]
    for seq, (trace, row) in enumerate(zip(traces, rows, strict=True), start=1):
        item = ReplayItem.objects.create(
            run=run, seq=seq, ticket_id=trace.ticket_id, source_trace=trace, done=True
        )
        latency, t_in, t_out, cost, grounding, guards, similarity, calls = row
        ReplayResult.objects.create(
            item=item,
            side="a",
            config=config,
            outcome="answered",
            provider="rules",
            latency_ms=latency,
            tokens_in=t_in,
            tokens_out=t_out,
            cost=Decimal(cost),
            grounding=grounding,
            safeguards=guards,
            similarity=similarity,
            tool_calls_count=calls,
        )

    (a,) = replay_report(run).sides
    assert (a.tokens_in, a.tokens_out, a.cost) == (350, 70, Decimal("0.001575"))
    assert a.latency_p50_ms == 80  # sorted 40, 80, 120, 300: nearest rank ceil(0.5*4) = 2nd
    assert a.latency_p95_ms == 300  # ceil(0.95*4) = 4th
    assert a.grounding == {"grounded": 2, "none": 1, "unverified": 1}
    assert a.safeguards == {"loop_limit": 1, "repeated_call": 2}
    assert a.similarity_mean == pytest.approx((1.0 + 0.5 + 0.25) / 3)
    assert a.similarity_count == 3
    # Every source trace called fetch_orders; two replays did not.
    assert (a.tool_calls, a.decision_same, a.decision_dropped, a.tool_call_rate) == (3, 2, 2, 0.5)


def test_a_call_the_original_run_never_made_answers_not_recorded(brand, past_ticket, rules_config):
    # Recorded with fetch_orders off for the brand: the trace has no tool span.
    trace = past_ticket(
        brand, body="Where is my order NW-3001?", order="NW-3001", fetch_orders=False
    )
    assert not trace.spans.filter(kind=Span.Kind.TOOL).exists()
    run = run_to_end(
        replay_start(brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY))
    )
    result = ReplayResult.objects.get(item__run=run)
    assert result.not_recorded == 1
    tool_span = next(s for s in result.spans if s["kind"] == Span.Kind.TOOL)
    assert tool_span["error"] == "not_recorded"
    assert "JD" not in result.text  # the live demo order was not read
    assert "could not read the status" in result.text


def test_a_recorded_tool_error_is_replayed_as_that_error(
    brand, past_ticket, rules_config, monkeypatch
):
    def down(self, **kwargs):
        raise ConnectorUnavailable("down")

    with monkeypatch.context() as patch:
        patch.setattr(DemoConnector, "order_by_number", down)
        trace = past_ticket(brand, body="Where is my order NW-4001?", order="NW-4001")
    assert trace.spans.get(kind=Span.Kind.TOOL).error["code"] == "order_source_unavailable"
    run = run_to_end(
        replay_start(brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY))
    )
    result = ReplayResult.objects.get(item__run=run)
    tool_span = next(s for s in result.spans if s["kind"] == "tool")
    assert (tool_span["status"], tool_span["error"]) == ("error", "order_source_unavailable")
    assert result.not_recorded == 0


def test_config_overrides_reach_the_run(brand, past_ticket, rules_config):
    past_ticket(brand, body="Where is my order NW-5001?", order="NW-5001")
    capped = rules_config(brand, "capped", max_iterations=1, reply_language="fr")
    run = run_to_end(replay_start(brand=brand, config_a=capped, filters=ReplayFilters(since=TODAY)))
    result = ReplayResult.objects.get(item__run=run)
    assert result.outcome == "loop_limit"
    assert result.safeguards == ["loop_limit"]
    assert result.config == capped


def test_editing_a_configuration_stores_a_new_version(brand):
    first = replay_config_save(brand=brand, name="base", values={"provider": "rules"})
    same = replay_config_save(brand=brand, name="base", values={"provider": "rules"})
    second = replay_config_save(brand=brand, name="base", values={"max_iterations": 2})
    assert same == first
    assert (first.version, second.version) == (1, 2)
    assert (second.provider, second.max_iterations) == ("rules", 2)
    first.refresh_from_db()
    assert first.max_iterations == 4  # the old version is kept as it was


def test_filters_pick_the_right_tickets(brand, four_tickets):
    from replay.selectors import replay_candidates

    def ids(**kwargs):
        return [t.pk for t in replay_candidates(brand=brand, filters=ReplayFilters(**kwargs))]

    t1, t2, t3, t4 = four_tickets
    assert ids(since=TODAY) == [t1.pk, t2.pk, t3.pk, t4.pk]
    assert ids(since=TODAY, tool="fetch_orders") == [t1.pk, t2.pk]
    assert ids(since=TODAY, decision="sent") == [t1.pk, t2.pk]
    assert ids(since=TODAY, decision="rejected") == [t3.pk]
    assert ids(since=TODAY, limit=3) == [t1.pk, t2.pk, t3.pk]
    assert ids(since=TODAY + dt.timedelta(days=1)) == []
    assert ids(since=TODAY, outcome="loop_limit") == []


def test_no_matching_tickets_and_foreign_configs_are_refused(brand, rules_config):
    with pytest.raises(NoTicketsToReplay):
        replay_start(brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY))
    other = rules_config(BrandFactory())
    with pytest.raises(ReplayError):
        replay_start(brand=brand, config_a=other, filters=ReplayFilters(since=TODAY))


def test_a_replay_writes_no_audit_trace_and_a_chunk_runs_once(brand, four_tickets, rules_config):
    traces_before = Trace.objects.count()
    run = replay_start(
        brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY)
    )
    from replay.services import replay_chunk_run

    ids = list(run.items.values_list("pk", flat=True))
    assert replay_chunk_run(run_id=run.pk, item_ids=ids) == 4
    assert replay_chunk_run(run_id=run.pk, item_ids=ids) == 0  # a retried task stores nothing
    run.refresh_from_db()
    assert (run.done, run.status) == (4, ReplayRun.Status.DONE)
    assert ReplayResult.objects.filter(item__run=run).count() == 4
    assert Trace.objects.count() == traces_before
    assert ReplayConfiguration.objects.count() == 1


def test_a_ticket_whose_replay_crashes_is_marked_failed_and_the_run_goes_on(
    brand, four_tickets, rules_config, monkeypatch
):
    from copilot.agent import engine

    real_run = engine.run
    crashing_ticket = four_tickets[1].ticket_id

    def run(*, ticket, **kwargs):
        if ticket.pk == crashing_ticket:
            raise RuntimeError("a bug")
        return real_run(ticket=ticket, **kwargs)

    monkeypatch.setattr(engine, "run", run)
    run_ = run_to_end(
        replay_start(brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY))
    )
    results = list(ReplayResult.objects.filter(item__run=run_).order_by("item__seq"))
    assert [r.outcome for r in results] == ["answered", "failed", "answered", "answered"]
    assert results[1].error_code == "replay_crashed"
    assert replay_report(run_).sides[0].outcomes == {"answered": 3, "failed": 1}


def test_a_replay_reads_relative_dates_against_the_day_of_the_recorded_run(
    brand, past_ticket, rules_config, monkeypatch
):
    from copilot.agent.providers import rules

    # Recorded today: the order is expected in two days (the demo factory's estimate).
    past_ticket(brand, body="Where is my order NW-6001?", order="NW-6001")
    # Replayed three days later, by a configuration that words the estimate relatively.
    real_localdate = timezone.localdate

    def three_days_later(value=None, timezone=None):
        if value is not None:
            return real_localdate(value, timezone)
        return real_localdate() + dt.timedelta(days=3)

    monkeypatch.setattr("django.utils.timezone.localdate", three_days_later)
    monkeypatch.setitem(rules._ESTIMATE, "en", "It should arrive in 2 days.")
    run = run_to_end(
        replay_start(brand=brand, config_a=rules_config(brand), filters=ReplayFilters(since=TODAY))
    )

    result = ReplayResult.objects.get(item__run=run)
    assert "in 2 days" in result.text
    # Two days after the recorded run is the recorded estimate: the draft is grounded.
    assert result.grounding == "grounded"
