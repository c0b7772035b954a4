"""The leads' replay page: access, configurations as versions, a run polled to its end,
the comparison, one ticket's two results, and the exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from copilot.models import Role
from replay.models import ReplayConfiguration, ReplayRun
from replay.selectors import replay_report
from tests.factories import BrandFactory

TODAY = timezone.now().date().isoformat()


@pytest.fixture
def history(brand, past_ticket, rules_config):
    past_ticket(brand, body="Where is my order NW-1001?", order="NW-1001", tracking="JD1")
    past_ticket(
        brand,
        body="Where is my order NW-1002?",
        order="NW-1002",
        decision="edit",
        append=" Thanks!",
    )
    past_ticket(brand, subject="Opening hours", body="What are your opening hours?")
    return rules_config(brand, "with-tools"), rules_config(brand, "no-tools", tools=[])


def test_agents_and_other_brands_get_404(brand, member, history):
    agent, _ = member(brand, Role.AGENT)
    outsider, _ = member(BrandFactory(), Role.ADMIN)
    lead, _ = member(brand, Role.LEAD)
    assert agent.get(reverse("replay:home", args=[brand.slug])).status_code == 404
    assert outsider.get(reverse("replay:home", args=[brand.slug])).status_code == 404
    response = lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": TODAY, "config_a": history[0].pk},
    )
    run = ReplayRun.objects.get()
    assert response.status_code == 302
    for url in (
        reverse("replay:run", args=[brand.slug, run.pk]),
        reverse("replay:export", args=[brand.slug, run.pk, "csv"]),
        reverse("replay:config_edit", args=[brand.slug, "with-tools"]),
    ):
        assert agent.get(url).status_code == 404
        assert outsider.get(url).status_code == 404
        assert lead.get(url).status_code == 200


def test_editing_a_configuration_on_the_page_stores_a_new_version(brand, member, history):
    lead, user = member(brand, Role.LEAD)
    url = reverse("replay:config_edit", args=[brand.slug, "with-tools"])
    page = lead.get(url)
    assert page.context["form"].initial["tools"] == ["fetch_orders"]
    response = lead.post(
        url,
        {
            "provider": "rules",
            "prompt_version": "v1",
            "tools": ["fetch_orders"],
            "max_iterations": 2,
            "run_deadline_seconds": 30,
            "tool_timeout_seconds": 5,
            "reply_language": "fr",
            "price_in_per_mtok": 0,
            "price_out_per_mtok": 0,
        },
    )
    assert response.status_code == 302
    versions = ReplayConfiguration.objects.filter(brand=brand, name="with-tools")
    assert sorted(versions.values_list("version", flat=True)) == [1, 2]
    latest = versions.get(version=2)
    assert (latest.max_iterations, latest.reply_language, latest.created_by) == (2, "fr", user)

    created = lead.post(
        reverse("replay:config_new", args=[brand.slug]),
        {
            "name": "gpt",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "prompt_version": "v1",
            "max_iterations": 4,
            "run_deadline_seconds": 60,
            "tool_timeout_seconds": 10,
            "price_in_per_mtok": "0.15",
            "price_out_per_mtok": "0.60",
        },
    )
    assert created.status_code == 302
    assert ReplayConfiguration.objects.get(name="gpt").tools == []


def test_a_lead_starts_a_replay_polls_it_to_the_end_and_reads_the_comparison(
    brand, member, history, settings
):
    settings.REPLAY_CHUNK_SIZE = 2
    lead, _ = member(brand, Role.LEAD)
    with_tools, no_tools = history
    response = lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": TODAY, "config_a": with_tools.pk, "config_b": no_tools.pk},
    )
    run = ReplayRun.objects.get()
    assert response["Location"] == reverse("replay:run", args=[brand.slug, run.pk])
    assert (run.total, run.done) == (3, 0)  # nothing ran inside the starting request

    page = lead.get(response["Location"])
    assert 'hx-post="{}"'.format(reverse("replay:progress", args=[brand.slug, run.pk])) in (
        page.content.decode()
    )
    progress = reverse("replay:progress", args=[brand.slug, run.pk])
    first = lead.post(progress, HTTP_HX_REQUEST="true")
    assert "2 of 3 tickets replayed" in first.content.decode()
    assert "hx-trigger" in first.content.decode()
    second = lead.post(progress, HTTP_HX_REQUEST="true")
    body = second.content.decode()
    assert "3 of 3 tickets replayed" in body
    assert "hx-trigger" not in body  # done: the poll stops
    assert "Comparison" in body and "with-tools v1" in body and "no-tools v1" in body
    # A GET only reads: it never moves a run.
    assert lead.get(progress).status_code == 200

    report = replay_report(ReplayRun.objects.get())
    assert [s.called_tools for s in report.sides] == [2, 0]
    assert report.only_a_called == 2 and report.neither_called == 1


def test_drill_down_shows_both_results_and_the_sent_text(brand, member, history):
    lead, _ = member(brand, Role.LEAD)
    with_tools, no_tools = history
    lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": TODAY, "config_a": with_tools.pk, "config_b": no_tools.pk, "limit": 1},
    )
    run = ReplayRun.objects.get()
    lead.post(reverse("replay:progress", args=[brand.slug, run.pk]))
    item = run.items.get()
    response = lead.get(reverse("replay:item", args=[brand.slug, run.pk, item.pk]))
    body = response.content.decode()
    assert "A: with-tools v1" in body and "B: no-tools v1" in body
    assert "JD1" in body  # A's draft, from the recorded order data
    assert "will look into your order" in body  # B had no tool
    assert "What the agent sent" in body
    other = BrandFactory()
    outsider, _ = member(other, Role.LEAD)
    assert (
        outsider.get(reverse("replay:item", args=[brand.slug, run.pk, item.pk])).status_code == 404
    )


def test_exports_carry_every_ticket_and_configuration(brand, member, history):
    lead, _ = member(brand, Role.LEAD)
    with_tools, no_tools = history
    lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": TODAY, "config_a": with_tools.pk, "config_b": no_tools.pk},
    )
    run = ReplayRun.objects.get()
    lead.post(reverse("replay:progress", args=[brand.slug, run.pk]))

    response = lead.get(reverse("replay:export", args=[brand.slug, run.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Disposition"] == f'attachment; filename="replay-{run.pk}.csv"'
    assert len(rows) == 6
    assert {r["config"] for r in rows} == {"with-tools v1", "no-tools v1"}
    assert [r["tool_calls"] for r in rows if r["side"] == "a"] == ["1", "1", "0"]

    document = json.loads(
        lead.get(reverse("replay:export", args=[brand.slug, run.pk, "json"])).content
    )
    assert document["configs"]["a"]["label"] == "with-tools v1"
    assert document["configs"]["b"]["tools"] == []
    assert document["report"]["sides"][0]["called_tools"] == 2
    assert len(document["items"]) == 6


def test_the_comparison_page_reads_in_a_fixed_number_of_queries(
    brand, member, history, django_assert_num_queries
):
    lead, _ = member(brand, Role.LEAD)
    with_tools, no_tools = history
    lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": TODAY, "config_a": with_tools.pk, "config_b": no_tools.pk},
    )
    run = ReplayRun.objects.get()
    lead.post(reverse("replay:progress", args=[brand.slug, run.pk]))
    # The session, its user, the membership, the run, its items, and all their results.
    with django_assert_num_queries(6):
        assert lead.get(reverse("replay:run", args=[brand.slug, run.pk])).status_code == 200


def test_a_bad_start_form_is_shown_again(brand, member, history):
    lead, _ = member(brand, Role.LEAD)
    response = lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": "2000-01-02", "until": "2000-01-01", "config_a": history[0].pk},
    )
    assert response.status_code == 400
    assert "before the start date" in response.content.decode()
    empty = lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": "2000-01-01", "until": "2000-01-02", "config_a": history[0].pk},
    )
    assert empty.status_code == 400
    assert "No past ticket" in empty.content.decode()
    assert not ReplayRun.objects.exists()
