"""The production shape: a real Celery worker replays the chunks, one task per chunk."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from copilot.models import Role
from replay.models import ReplayResult, ReplayRun
from tests.conftest import artifacts_dir
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_replays_every_chunk_and_the_poll_only_reads(
    celery_worker_process, brand, member, past_ticket, rules_config, settings
):
    settings.REPLAY_CHUNK_SIZE = 2
    for i in range(5):
        past_ticket(brand, body=f"Where is my order NW-80{i}?", order=f"NW-80{i}")
    config = rules_config(brand)
    lead, _ = member(brand, Role.LEAD)

    response = lead.post(
        reverse("replay:home", args=[brand.slug]),
        {"since": timezone.now().date().isoformat(), "config_a": config.pk},
    )
    assert response.status_code == 302
    run = ReplayRun.objects.get()
    page = lead.get(response["Location"]).content.decode()
    assert 'hx-get="{}"'.format(reverse("replay:progress", args=[brand.slug, run.pk])) in page

    wait_until(
        lambda: ReplayRun.objects.filter(pk=run.pk, status=ReplayRun.Status.DONE).exists(),
        timeout=30,
        what="the replay run done",
    )
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == (ReplayRun.Status.DONE, 5, 5)
    assert ReplayResult.objects.filter(item__run=run).count() == 5
    assert all("NW-80" in r.text for r in ReplayResult.objects.filter(item__run=run))
    log = (artifacts_dir() / "celery-worker.log").read_text()
    done = [
        line for line in log.splitlines() if "Task replay.chunk[" in line and "succeeded" in line
    ]
    assert len(done) == 3  # 5 items in chunks of 2: three tasks
