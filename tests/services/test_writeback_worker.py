"""Write-back with a real Celery worker on Redis and PostgreSQL: a Zendesk webhook becomes a
ticket and a draft; accepting it posts exactly one internal note, even when the worker is
killed (SIGKILL) after Zendesk stored the note and before the worker could record or ack it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from copilot.models import Draft, HelpdeskConnection, ReplyDelivery, Role, Ticket
from copilot.tasks import reply_delivery_sweep_task
from tests.conftest import ROOT, artifacts_dir
from tests.fakes import zendesk
from tests.fakes.zendesk import FakeZendesk
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SECRET = "zd-signing-secret"
RETRY_BASE = 1  # seconds: retries after 1 s, then 2 s


@pytest.fixture(autouse=True)
def _worker_environment(monkeypatch, settings):
    """Read by the worker process the fixture starts: this process's encryption keys (it
    decrypts the stored credentials), short backoff, lease and redelivery."""
    monkeypatch.setenv("COPILOT_ENCRYPTION_KEYS", ",".join(settings.COPILOT_ENCRYPTION_KEYS))
    monkeypatch.setenv("COPILOT_HELPDESK_RETRY_BASE_SECONDS", str(RETRY_BASE))
    monkeypatch.setenv("COPILOT_HELPDESK_LEASE_SECONDS", "3")
    # A short redelivery needs every bound below it to shrink too (settings check the order).
    monkeypatch.setenv("COPILOT_RUN_DEADLINE_SECONDS", "1")
    monkeypatch.setenv("CELERY_TASK_SOFT_TIME_LIMIT", "1.5")
    monkeypatch.setenv("CELERY_TASK_TIME_LIMIT", "2")
    monkeypatch.setenv("COPILOT_BROKER_VISIBILITY_TIMEOUT", "3")


@pytest.fixture
def fake():
    with FakeZendesk() as server:
        yield server


def webhook_to_draft(client, brand, fake) -> Draft:
    HelpdeskConnection.objects.create(
        brand=brand,
        kind="zendesk",
        base_url=fake.url,
        credentials={"email": zendesk.EMAIL, "api_token": zendesk.TOKEN},
        webhook_secret=SECRET,
        timeout_seconds=3,
    )
    body, headers = zendesk.webhook(SECRET, ticket_id="101", event_id="evt-1")
    response = client.generic(
        "POST",
        reverse("helpdesk_webhook", args=["zendesk", brand.slug]),
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 202, response.content
    assert Ticket.objects.get().external_id == "zendesk:101"
    return wait_until(
        lambda: Draft.objects.filter(
            pk=response.json()["draft_id"], status=Draft.Status.READY
        ).first(),
        timeout=30,
    )


def restart_worker(dead: subprocess.Popen, environ: dict[str, str]) -> subprocess.Popen:
    """The same worker command and environment as the killed one."""
    from copilot.celery import app

    log = open(artifacts_dir() / "celery-worker-restarted.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(dead.args, cwd=ROOT, env=environ, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while not app.control.ping(timeout=0.5):
        assert worker.poll() is None and time.monotonic() < deadline, "restarted worker died"
    return worker


def test_accepted_draft_is_posted_once_even_when_the_worker_is_killed_after_posting(
    celery_worker_process, client, brand, member, fake
):
    draft = webhook_to_draft(client, brand, fake)
    agent, _ = member(brand, Role.AGENT)
    fake.hold.clear()  # Zendesk stores the note, then its answer hangs

    accepted = agent.post(reverse("draft_decide", args=[draft.pk, "accept"]), {"version": 1})

    assert accepted.status_code == 302
    assert fake.stored_while_held.wait(timeout=30), "the worker never posted"
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{celery_worker_process.pid}/environ").read_text().split("\0")
        if "=" in item
    )
    os.kill(celery_worker_process.pid, signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    fake.hold.set()
    delivery = ReplyDelivery.objects.get(draft=draft)
    assert (delivery.status, delivery.attempts) == ("sending", 1)  # the answer was never seen
    assert len(fake.posted) == 1

    worker = restart_worker(celery_worker_process, environ)
    try:
        # The dead attempt's lease (3 s here) runs out; beat's sweep (one tick sent by hand)
        # re-enqueues the row, or Redis redelivers the unacknowledged task, whichever comes
        # first. Either way the attempt reads the ticket back, finds the note and stops.
        wait_until(
            lambda: timezone.now() > delivery.lease_until + dt.timedelta(seconds=0.5),
            what="the dead attempt's lease run out",
        )
        reply_delivery_sweep_task.delay()
        delivery = wait_until(
            lambda: ReplyDelivery.objects.filter(draft=draft, status="sent").first(), timeout=60
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)

    assert (delivery.attempts, delivery.reconciled) == (2, True)
    assert [(p.ticket_id, p.text, p.public) for p in fake.posted] == [("101", draft.body, False)]
    assert [r.method for r in fake.requests if r.method == "PUT"] == ["PUT"]
    page = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()
    assert "Posted" in page and "found already posted" in page


def test_failures_are_retried_by_the_worker_with_backoff_and_shown_on_the_ticket(
    celery_worker_process, client, brand, member, fake
):
    draft = webhook_to_draft(client, brand, fake)
    agent, _ = member(brand, Role.AGENT)
    fake.failures = [503, 503]

    agent.post(reverse("draft_decide", args=[draft.pk, "accept"]), {"version": 1})

    wait_until(lambda: ReplyDelivery.objects.filter(draft=draft, status="retrying").exists())
    page = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()
    assert "Retrying" in page and "Zendesk answered 503" in page
    delivery = wait_until(
        lambda: ReplyDelivery.objects.filter(draft=draft, status="sent").first(), timeout=40
    )
    assert delivery.attempts == 3 and delivery.last_error == ""
    assert len(fake.posted) == 1
    writes = fake.write_times()
    assert len(writes) == 3
    assert writes[1] - writes[0] >= RETRY_BASE * 0.9
    assert writes[2] - writes[1] >= 2 * RETRY_BASE * 0.9
