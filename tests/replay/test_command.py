from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from replay.models import ReplayResult, ReplayRun

TODAY = timezone.now().date().isoformat()


def test_command_replays_and_compares_and_prints_json(brand, past_ticket, rules_config):
    past_ticket(brand, body="Where is my order NW-1001?", order="NW-1001", tracking="JD1")
    past_ticket(brand, subject="Opening hours", body="What are your opening hours?")
    rules_config(brand, "with-tools")
    rules_config(brand, "no-tools", tools=[])
    out, err = StringIO(), StringIO()
    call_command(
        "replay",
        "--brand", brand.slug,
        "--since", TODAY,
        "--config", "with-tools",
        "--compare", "no-tools",
        "--json",
        stdout=out,
        stderr=err,
    )  # fmt: skip
    document = json.loads(out.getvalue())
    assert "replayed 2/2 (100%)" in err.getvalue()
    assert document["configs"]["a"]["label"] == "with-tools v1"
    assert [s["called_tools"] for s in document["report"]["sides"]] == [1, 0]
    assert len(document["items"]) == 4
    assert ReplayResult.objects.count() == 4

    text = StringIO()
    call_command(
        "replay", "--brand", brand.slug, "--since", TODAY, "--config", "with-tools",
        stdout=text, stderr=StringIO(),
    )  # fmt: skip
    assert "tickets with a tool call   1 (50%)" in text.getvalue()
    assert ReplayRun.objects.count() == 2


def test_command_refuses_unknown_names(brand, rules_config):
    with pytest.raises(CommandError, match="No configuration"):
        call_command("replay", "--brand", brand.slug, "--since", TODAY, "--config", "nope")
    rules_config(brand)
    with pytest.raises(CommandError, match="replay_no_tickets"):
        call_command("replay", "--brand", brand.slug, "--since", TODAY, "--config", "baseline")
    with pytest.raises(CommandError, match="No brand"):
        call_command("replay", "--brand", "ghost", "--since", TODAY, "--config", "baseline")


def test_command_runs_an_older_version_by_name_at_version(brand, past_ticket, rules_config):
    past_ticket(brand, body="Where is my order NW-1001?", order="NW-1001")
    rules_config(brand, "base")
    rules_config(brand, "base", tools=[])  # version 2 offers no tool
    out = StringIO()
    call_command(
        "replay", "--brand", brand.slug, "--since", TODAY, "--config", "base@1",
        "--compare", "base", "--json", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    document = json.loads(out.getvalue())
    assert [document["configs"][side]["label"] for side in "ab"] == ["base v1", "base v2"]
    assert [s["called_tools"] for s in document["report"]["sides"]] == [1, 0]
    with pytest.raises(CommandError, match="No configuration"):
        call_command("replay", "--brand", brand.slug, "--since", TODAY, "--config", "base@9")
