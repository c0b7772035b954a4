"""Done-point 4 and the page: leads read, admins change, agents see nothing; every change is
logged with who, from, to and a required reason; the live split counts the traces' arms."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from audit.models import Trace
from copilot.models import Role
from rollout.exceptions import ReasonRequired
from rollout.flags import FETCH_ORDERS
from rollout.models import BrandFlag, BrandRollout, RolloutChange, Stage
from rollout.selectors import arm_split
from rollout.services import (
    plan_for,
    rollout_experiment_start,
    rollout_experiment_stop,
    rollout_set_stage,
)
from tests.factories import BrandFactory, CustomerFactory, DraftFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


def page_url(brand):
    return reverse("rollout:page", args=[brand.slug])


def stage_url(brand, tool="fetch_orders"):
    return reverse("rollout:change", args=[brand.slug, tool, "stage"])


def experiment_url(brand, tool="fetch_orders"):
    return reverse("rollout:change", args=[brand.slug, tool, "experiment"])


def test_agents_can_neither_open_nor_change_the_rollout(brand, member):
    agent, _ = member(brand, Role.AGENT)

    assert agent.get(page_url(brand)).status_code == 404
    response = agent.post(stage_url(brand), {"stage": "on", "reason": "why not"})

    assert response.status_code == 404
    assert not BrandRollout.objects.exists() and not RolloutChange.objects.exists()


def test_leads_read_the_page_but_cannot_change_the_rollout(brand, member):
    lead, _ = member(brand, Role.LEAD)

    page = lead.get(page_url(brand))
    response = lead.post(stage_url(brand), {"stage": "on", "reason": "ship it"})
    experiment = lead.post(experiment_url(brand), {"action": "start", "name": "x", "reason": "y"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "fetch_orders" in html and "Apply stage" not in html and "only the brand" in html
    assert response.status_code == 403 and experiment.status_code == 403
    assert not BrandRollout.objects.exists() and not RolloutChange.objects.exists()


def test_admins_of_another_brand_get_a_404(brand, member):
    other_admin, _ = member(BrandFactory(), Role.ADMIN)

    assert other_admin.get(page_url(brand)).status_code == 404
    assert other_admin.post(stage_url(brand), {"stage": "on", "reason": "x"}).status_code == 404


def test_admin_changes_the_stage_and_the_change_is_logged_with_reason(brand, member):
    admin, user = member(brand, Role.ADMIN)

    response = admin.post(
        stage_url(brand), {"stage": "percent", "percent": "10", "reason": "first cohort"}
    )

    assert response.status_code == 302
    rollout = BrandRollout.objects.get(brand=brand)
    assert (rollout.stage, rollout.percent) == (Stage.PERCENT, 10)
    assert BrandFlag.objects.get(name=FETCH_ORDERS).brands.filter(pk=brand.pk).exists()
    change = RolloutChange.objects.get()
    assert (change.changed_by, change.from_value, change.to_value, change.reason) == (
        user,
        "off",
        "percent 10%",
        "first cohort",
    )
    html = admin.get(page_url(brand)).content.decode()
    assert "first cohort" in html and "percent 10%" in html and user.username in html


def test_a_change_without_reason_is_refused_with_a_clear_message(brand, member):
    admin, _ = member(brand, Role.ADMIN)

    response = admin.post(stage_url(brand), {"stage": "on", "reason": "   "})

    assert response.status_code == 400
    assert "a reason is required" in response.content.decode()
    assert not RolloutChange.objects.exists()
    assert not BrandFlag.objects.filter(brands=brand).exists()


def test_the_service_and_the_database_refuse_a_change_without_reason(brand, member):
    _, user = member(brand, Role.ADMIN)

    with pytest.raises(ReasonRequired, match="a reason is required"):
        rollout_set_stage(brand=brand, tool="fetch_orders", stage="on", user=user, reason=" ")
    rollout = BrandRollout.objects.create(
        flag=BrandFlag.objects.create(name=FETCH_ORDERS), brand=brand
    )
    with pytest.raises(IntegrityError):
        RolloutChange.objects.create(
            rollout=rollout, kind="stage", from_value="off", to_value="on", changed_by=user
        )


def test_the_change_log_is_append_only(brand, member):
    _, user = member(brand, Role.ADMIN)
    rollout_set_stage(brand=brand, tool="fetch_orders", stage="on", user=user, reason="go")
    change = RolloutChange.objects.get()

    change.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()
    assert RolloutChange.objects.get().reason == "go"


def test_htmx_change_returns_the_card_with_the_new_history_row(brand, member):
    admin, _ = member(brand, Role.ADMIN)

    response = admin.post(
        stage_url(brand), {"stage": "shadow", "reason": "measure first"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="card-fetch_orders"')
    assert "measure first" in html and 'data-stage="shadow"' in html


def test_htmx_refusal_shows_the_message_in_the_card(brand, member):
    admin, _ = member(brand, Role.ADMIN)

    response = admin.post(
        stage_url(brand), {"stage": "percent", "reason": "no percent"}, HTTP_HX_REQUEST="true"
    )

    assert 'role="alert"' in response.content.decode()
    assert "Give the percent" in response.content.decode()
    assert not RolloutChange.objects.exists()


def test_unknown_tool_is_a_404(brand, member):
    admin, _ = member(brand, Role.ADMIN)
    assert admin.post(stage_url(brand, "nope"), {"stage": "on", "reason": "x"}).status_code == 404


def test_experiment_start_and_stop_are_logged_and_the_split_counts_arms_from_traces(
    brand, member, generate
):
    admin, user = member(brand, Role.ADMIN)
    rollout_set_stage(
        brand=brand, tool="fetch_orders", stage="percent", percent="50", user=user, reason="ab"
    )
    response = admin.post(
        experiment_url(brand), {"action": "start", "name": "wismo-ab", "reason": "measure"}
    )
    assert response.status_code == 302
    customers = CustomerFactory.create_batch(12, brand=brand)
    for customer in customers:
        generate(TicketFactory(brand=brand, customer=customer))

    arms = [t.plan["arm"] for t in Trace.objects.filter(brand=brand)]
    html = admin.get(page_url(brand)).content.decode()
    split = admin.get(page_url(brand), {"tool": "fetch_orders"}, HTTP_HX_REQUEST="true")

    assert {t.plan["experiment"] for t in Trace.objects.filter(brand=brand)} == {"wismo-ab"}
    for body in (html, split.content.decode()):
        assert f'data-arm="control">{arms.count("control")}<' in body
        assert f'data-arm="treatment">{arms.count("treatment")}<' in body
    assert split.content.decode().lstrip().startswith('<div id="split-fetch_orders"')

    admin.post(experiment_url(brand), {"action": "stop", "reason": "enough data"})
    rollout = BrandRollout.objects.get(brand=brand)
    assert rollout.stopped_at and not rollout.experiment_running
    assert plan_for(TicketFactory(brand=brand)).experiment == ""
    assert [(c.kind, c.to_value) for c in RolloutChange.objects.order_by("id")] == [
        ("stage", "percent 50%"),
        ("experiment", "experiment 'wismo-ab' running"),
        ("experiment", "experiment 'wismo-ab' stopped"),
    ]


def test_only_one_experiment_runs_at_a_time(brand, member):
    _, user = member(brand, Role.ADMIN)
    rollout_experiment_start(brand=brand, tool="fetch_orders", name="a", user=user, reason="r")

    with pytest.raises(Exception, match="stop it first"):
        rollout_experiment_start(brand=brand, tool="fetch_orders", name="b", user=user, reason="r")
    rollout_experiment_stop(brand=brand, tool="fetch_orders", user=user, reason="r")
    rollout_experiment_start(brand=brand, tool="fetch_orders", name="b", user=user, reason="r")

    assert BrandRollout.objects.get().experiment == "b"


def test_inbox_links_the_rollout_page_for_leads_and_admins_only(brand, member):
    agent, _ = member(brand, Role.AGENT)
    lead, _ = member(brand, Role.LEAD)
    link = f'href="{page_url(brand)}"'

    assert link not in agent.get(reverse("inbox", args=[brand.slug])).content.decode()
    assert link in lead.get(reverse("inbox", args=[brand.slug])).content.decode()


def test_waffles_admin_pages_keep_working(brand, admin_client):
    BrandFlag.objects.create(name=FETCH_ORDERS).brands.add(brand)

    for name in ("rollout_brandflag", "waffle_switch", "rollout_brandrollout"):
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    flag = BrandFlag.objects.get(name=FETCH_ORDERS)
    assert (
        admin_client.get(reverse("admin:rollout_brandflag_change", args=[flag.pk])).status_code
        == 200
    )


def test_the_page_costs_the_same_queries_whatever_the_history_and_traffic(brand, member, generate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin, user = member(brand, Role.ADMIN)
    rollout_set_stage(brand=brand, tool="fetch_orders", stage="on", user=user, reason="a")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(page_url(brand)).status_code == 200
        return len(captured)

    queries()  # warms waffle's cache for the kill switch
    before = queries()
    for n in range(10):
        stage = "percent" if n % 2 == 0 else "on"
        rollout_set_stage(
            brand=brand, tool="fetch_orders", stage=stage, percent="50", user=user, reason="b"
        )
        generate(TicketFactory(brand=brand))

    # The session, its user, the membership, the flag, the brand's rollout, its history, and
    # the split of the traffic between the arms (one aggregate over the traces).
    assert queries() == before == 7


def test_a_brand_switched_on_in_waffles_admin_shows_as_on_and_moves_from_on(
    brand, member, enable_fetch_orders
):
    """The demo seed and waffle's admin add brands to the flag without a rollout row."""
    enable_fetch_orders(brand)
    admin, _ = member(brand, Role.ADMIN)

    html = admin.get(page_url(brand)).content.decode()
    admin.post(stage_url(brand), {"stage": "off", "reason": "take it over here"})

    assert 'data-stage="on"' in html and "waffle's admin (flag" in html
    change = RolloutChange.objects.get()
    assert (change.from_value, change.to_value) == ("on", "off")
    assert plan_for(TicketFactory(brand=brand)).available_tools == ()


def test_the_split_of_a_named_experiment_counts_only_runs_since_it_started(brand):
    started = timezone.now()

    def run(arm: str, at) -> None:
        draft = DraftFactory(ticket=TicketFactory(brand=brand))
        plan = {"tools": {"fetch_orders": {"experiment": "wismo-ab", "arm": arm}}}
        with mock.patch("django.utils.timezone.now", return_value=at):
            Trace.objects.create(brand=brand, ticket=draft.ticket, draft=draft, plan=plan)

    run("control", started - dt.timedelta(days=30))  # an earlier experiment of the same name
    run("treatment", started + dt.timedelta(seconds=1))

    split = arm_split(brand, "fetch_orders", experiment="wismo-ab", since=started)

    assert (split.control, split.treatment) == (0, 1)
