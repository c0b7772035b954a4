"""Done-point 1: what the plan offers at each stage, the stable 20 percent split, the kill
switch; and that every trace records the plan."""

from __future__ import annotations

import pytest
from waffle.models import Switch

from audit.models import Span, Trace
from copilot.models import Customer, Ticket
from rollout.assignment import bucket_for
from rollout.flags import FETCH_ORDERS, KILL_SWITCH
from rollout.models import BrandFlag, Stage
from rollout.services import plan_for, rollout_set_stage
from tests.factories import BrandFactory, CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)

WISMO = "Where is my order? It has not arrived."


def set_stage(brand, admin, stage, percent=None):
    return rollout_set_stage(
        brand=brand, tool="fetch_orders", stage=stage, percent=percent, user=admin, reason="test"
    )


def synthetic_plans(brand, n=10_000):
    """Plans for `n` synthetic customers of `brand`, none stored: the plan needs no request."""
    return [
        plan_for(Ticket(brand=brand, customer=Customer(brand=brand, external_id=f"syn-{i}")))
        for i in range(n)
    ]


def test_flag_off_offers_no_tool_and_the_run_calls_none(brand, generate):
    ticket = TicketFactory(brand=brand, body=WISMO)

    plan = plan_for(ticket)
    draft = generate(ticket)

    assert plan.available_tools == () and plan.stage == Stage.OFF
    assert plan.flags == {FETCH_ORDERS: False}
    trace = Trace.objects.get(draft=draft)
    assert trace.plan["available_tools"] == [] and trace.tools_used == []
    assert not trace.spans.filter(kind=Span.Kind.TOOL).exists()


def test_flag_on_offers_the_tool_and_the_run_uses_it(brand, admin, generate):
    set_stage(brand, admin, Stage.ON)
    ticket = TicketFactory(brand=brand, body=WISMO)

    plan = plan_for(ticket)
    draft = generate(ticket)

    assert plan.available_tools == ("fetch_orders",)
    assert (plan.stage, plan.arm, plan.flags) == (Stage.ON, "treatment", {FETCH_ORDERS: True})
    assert BrandFlag.objects.get(name=FETCH_ORDERS).brands.filter(pk=brand.pk).exists()
    assert Trace.objects.get(draft=draft).tools_used == ["fetch_orders"]


def test_moving_back_to_off_stops_offering_on_the_next_run(brand, admin):
    set_stage(brand, admin, Stage.ON)
    ticket = TicketFactory(brand=brand)
    assert plan_for(ticket).available_tools == ("fetch_orders",)  # now cached

    set_stage(brand, admin, Stage.OFF)

    assert plan_for(ticket).available_tools == ()
    assert not BrandFlag.objects.get(name=FETCH_ORDERS).brands.exists()


def test_at_20_percent_20_pm_2_percent_of_10000_customers_are_treated_each_always_the_same(
    brand, admin
):
    set_stage(brand, admin, Stage.PERCENT, percent="20")

    plans = synthetic_plans(brand)
    again = synthetic_plans(brand)

    treated = [p.arm == "treatment" for p in plans]
    share = sum(treated) / len(plans)
    assert 0.18 <= share <= 0.22, share
    assert [p.arm for p in again] == [p.arm for p in plans]
    assert [p.bucket for p in again] == [p.bucket for p in plans]
    # Treatment is exactly the arm that is offered the tool.
    assert all((p.arm == "treatment") == (p.available_tools == ("fetch_orders",)) for p in plans)
    assert {p.stage for p in plans} == {Stage.PERCENT} and {p.percent for p in plans} == {20.0}


def test_the_same_customer_keeps_the_arm_on_every_ticket_and_when_the_share_grows(brand, admin):
    set_stage(brand, admin, Stage.PERCENT, percent="20")
    customers = CustomerFactory.create_batch(40, brand=brand)
    first = {c.pk: plan_for(TicketFactory(brand=brand, customer=c)).arm for c in customers}

    second = {c.pk: plan_for(TicketFactory(brand=brand, customer=c)).arm for c in customers}
    set_stage(brand, admin, Stage.PERCENT, percent="60")
    wider = {c.pk: plan_for(TicketFactory(brand=brand, customer=c)).arm for c in customers}

    assert second == first
    # Growing the share only moves control customers into treatment, never back.
    assert all(wider[pk] == "treatment" for pk, arm in first.items() if arm == "treatment")
    assert sum(a == "treatment" for a in wider.values()) > sum(
        a == "treatment" for a in first.values()
    )


def test_buckets_differ_between_brands_so_arms_are_not_shared(brand):
    other = BrandFactory()
    buckets = [bucket_for(flag=FETCH_ORDERS, brand_id=b.pk, subject="same") for b in (brand, other)]
    assert buckets[0] != buckets[1]


def test_kill_switch_stops_every_tool_on_the_next_run(brand, admin, generate):
    set_stage(brand, admin, Stage.ON)
    ticket = TicketFactory(brand=brand, body=WISMO)
    assert Trace.objects.get(draft=generate(ticket)).tools_used == ["fetch_orders"]

    Switch.objects.create(name=KILL_SWITCH, active=True)
    plan = plan_for(ticket)
    trace = Trace.objects.get(draft=generate(ticket))

    assert plan.available_tools == () and plan.shadow_tools == () and plan.kill_switch
    assert trace.tools_used == [] and trace.plan["kill_switch"] is True
    assert trace.plan["flags"] == {FETCH_ORDERS: True}  # the flag is on; the switch wins

    Switch.objects.filter(name=KILL_SWITCH).get().delete()
    assert plan_for(ticket).available_tools == ("fetch_orders",)


def test_kill_switch_also_stops_shadow_runs(brand, admin):
    set_stage(brand, admin, Stage.SHADOW)
    ticket = TicketFactory(brand=brand)
    assert plan_for(ticket).shadow_tools == ("fetch_orders",)

    Switch.objects.create(name=KILL_SWITCH, active=True)

    assert plan_for(ticket).shadow_tools == ()


def test_every_trace_records_flag_state_stage_percent_bucket_and_arm(brand, admin, generate):
    set_stage(brand, admin, Stage.PERCENT, percent="37.5")
    ticket = TicketFactory(brand=brand, body=WISMO)

    trace = Trace.objects.get(draft=generate(ticket))

    expected_bucket = bucket_for(
        flag=FETCH_ORDERS, brand_id=brand.pk, subject=ticket.customer.external_id
    )
    plan = trace.plan
    assert plan["flags"] == {FETCH_ORDERS: True}
    assert (plan["stage"], plan["percent"], plan["bucket"]) == ("percent", 37.5, expected_bucket)
    assert plan["arm"] == ("treatment" if expected_bucket < 3750 else "control")
    assert plan["tools"]["fetch_orders"]["arm"] == plan["arm"]


def test_a_warm_plan_reads_no_database_and_a_change_from_waffles_admin_is_seen(
    brand, admin, django_assert_num_queries
):
    set_stage(brand, admin, Stage.ON)
    ticket = TicketFactory(brand=brand)
    plan_for(ticket)

    with django_assert_num_queries(0):
        assert plan_for(ticket).available_tools == ("fetch_orders",)

    # Waffle's admin edits the brands list directly; the signal flushes the cache.
    BrandFlag.objects.get(name=FETCH_ORDERS).brands.remove(brand)
    assert plan_for(ticket).available_tools == ()


def test_a_brand_activated_only_in_waffles_admin_is_fully_on(brand, enable_fetch_orders):
    enable_fetch_orders(brand)

    plan = plan_for(TicketFactory(brand=brand))

    assert (plan.stage, plan.available_tools) == (Stage.ON, ("fetch_orders",))
