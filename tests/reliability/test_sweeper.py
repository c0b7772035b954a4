"""The sweeper queues again exactly the drafts that lost their way, and the task it queues
is idempotent: a draft queued twice is written once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.utils import timezone

from audit.models import Trace
from copilot import services
from copilot.celery import app
from copilot.conf import conf
from copilot.models import Draft
from copilot.tasks import draft_generate_task
from tests.conftest import ROOT
from tests.factories import DraftFactory, TicketFactory

# The tests with drafts run on PostgreSQL; the settings checks at the end need no database.


def _draft(brand, status: str, age_seconds: float) -> Draft:
    draft = DraftFactory(ticket=TicketFactory(brand=brand), status=status, body="")
    Draft.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - dt.timedelta(seconds=age_seconds)
    )
    return draft


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sweeper_requeues_stuck_and_undelivered_drafts_only(brand):
    stuck_after = conf.COPILOT_DRAFT_STUCK_SECONDS
    pending_after = conf.COPILOT_DRAFT_PENDING_SECONDS
    stuck = _draft(brand, Draft.Status.GENERATING, stuck_after + 5)
    undelivered = _draft(brand, Draft.Status.PENDING, pending_after + 5)
    running = _draft(brand, Draft.Status.GENERATING, stuck_after - 5)
    just_queued = _draft(brand, Draft.Status.PENDING, 1)
    done = _draft(brand, Draft.Status.READY, stuck_after + 5)

    requeued = services.draft_sweep()

    # Tasks run eagerly here: what was queued again has been generated, once.
    assert sorted(requeued) == sorted([stuck.pk, undelivered.pk])
    for draft in (stuck, undelivered):
        draft.refresh_from_db()
        assert draft.status == Draft.Status.READY
        assert Trace.objects.filter(draft=draft).count() == 1
    for draft, status in (
        (running, Draft.Status.GENERATING),
        (just_queued, Draft.Status.PENDING),
        (done, Draft.Status.READY),
    ):
        draft.refresh_from_db()
        assert draft.status == status
        assert not Trace.objects.filter(draft=draft).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_generating_the_same_draft_twice_writes_one_trace(brand):
    draft = _draft(brand, Draft.Status.PENDING, 0)

    draft_generate_task.delay(draft.pk)
    draft_generate_task.delay(draft.pk)
    services.draft_generate(draft_id=draft.pk)

    assert Trace.objects.filter(draft=draft).count() == 1
    draft.refresh_from_db()
    assert draft.status == Draft.Status.READY


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_overtaken_by_another_run_of_its_draft_leaves_the_draft_and_writes_no_trace(
    brand, monkeypatch
):
    draft = _draft(brand, Draft.Status.PENDING, 0)
    run = services.engine.run

    def overtaken(**kwargs):
        result = run(**kwargs)
        # Meanwhile a re-queued run of the same draft finished and stored its answer.
        Draft.objects.filter(pk=draft.pk).update(
            status=Draft.Status.READY, body="The other run's answer."
        )
        return result

    monkeypatch.setattr(services.engine, "run", overtaken)
    returned = services.draft_generate(draft_id=draft.pk)

    assert (returned.status, returned.body) == (Draft.Status.READY, "The other run's answer.")
    assert not Trace.objects.filter(draft=draft).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_at_enqueue_keeps_the_draft_for_the_sweeper(brand, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(draft_generate_task, "delay", broker_down)
    draft = services.draft_request(ticket=TicketFactory(brand=brand))

    draft.refresh_from_db()
    assert draft.status == Draft.Status.PENDING


def test_worker_settings_hold_many_drafts_and_redeliver_before_duplicating():
    celery = app.conf
    assert celery.worker_pool == "threads"
    assert celery.worker_concurrency >= 50
    assert celery.task_acks_late is True
    assert celery.task_reject_on_worker_lost is True
    assert celery.worker_prefetch_multiplier == 1
    visibility = celery.broker_transport_options["visibility_timeout"]
    assert (
        conf.COPILOT_RUN_DEADLINE_SECONDS
        < celery.task_soft_time_limit
        < celery.task_time_limit
        < visibility
    )
    assert celery.task_time_limit < conf.COPILOT_DRAFT_STUCK_SECONDS
    sweep = celery.beat_schedule["draft-sweep"]
    assert sweep["task"] == "copilot.draft_sweep"
    assert sweep["task"] in app.tasks
    assert {error.__name__ for error in draft_generate_task.autoretry_for} == {
        "ProviderRateLimited",
        "ProviderUnavailable",
        "ConnectorUnavailable",
    }


def test_time_limits_above_the_visibility_timeout_are_refused():
    env = {**os.environ, "DEBUG": "1", "COPILOT_BROKER_VISIBILITY_TIMEOUT": "60"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "COPILOT_BROKER_VISIBILITY_TIMEOUT" in result.stderr
