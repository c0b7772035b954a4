"""A worker killed with -9 mid-draft loses nothing and duplicates nothing.

Each round: four workers (one draft at a time each) are running, four tickets come in and
each worker takes one; the model asks for `fetch_orders`, the tool runs, and the model
holds the answer until the test has killed all four workers (kill -9, mid-draft). Four
other workers take over the queue; Redis gives each unacknowledged message back after the
visibility timeout and they finish the drafts, then are the next round's four. Five
rounds, twenty kills; then every draft has exactly one trace, and each tool ran exactly
twice (the killed run and its one retry).

The rounds run with the workers' bounds shrunk together (a visibility timeout of 6 s,
the run deadline and time limits under it), so a round waits 6 s for the broker, not 12.
Each round's replacements are started as the round begins, idle on a queue nothing is sent
to, and switched to the drafts' queue right after the kills: they start while the round
waits for the broker, not after it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from django.utils import timezone

from audit.models import Trace
from copilot import services
from copilot.models import Draft
from tests.factories import DraftFactory, TicketFactory
from tests.reliability.conftest import model_env
from tests.reliability.processes import Worker
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.postgres]

ROUNDS = 5
WORKERS_PER_ROUND = 4  # twenty kills in all
# A retry starts 6 s after its message was delivered; its run (under a second, two or three
# on a busy machine) ends well before, so nothing is delivered a third time.
KILL_ROUND_ENV = {
    "COPILOT_RUN_DEADLINE_SECONDS": "3",
    "CELERY_TASK_SOFT_TIME_LIMIT": "4",
    "CELERY_TASK_TIME_LIMIT": "5",
    "COPILOT_BROKER_VISIBILITY_TIMEOUT": "6",
    "COPILOT_DRAFT_STUCK_SECONDS": "7",
}
# Imported at start, as a worker that has already written a draft has it: a redelivered
# draft's run is then not slowed by the cold import of the openai client.
PROVIDER = ("copilot.agent.providers.openai",)
RECEIVED = re.compile(r"Task copilot\.draft_generate\[[0-9a-f-]+\] received")


def _ingest(brand, customer, key: str) -> Draft:
    return services.ticket_ingest(
        brand=brand,
        external_id=key,
        subject=f"{key} where is my order",
        body="Hello, where is my order KO-1?",
        customer_external_id=customer.external_id,
        customer_email=customer.email,
        customer_email_verified=True,
    ).draft


def test_kill_9_mid_draft_twenty_times_each_draft_completes_exactly_once(
    shop, redis_broker, workers, slow_model
):
    from copilot.celery import app

    brand, customer = shop
    answers = threading.Event()
    model = slow_model(tool_call="fetch_orders", delay=0.2, answer_gate=answers)
    env = {**model_env(model), **KILL_ROUND_ENV}
    starting, launching = ThreadPoolExecutor(WORKERS_PER_ROUND), ThreadPoolExecutor(1)

    def start_workers(queues: str) -> Future[list[Worker]]:
        """Workers taking one draft at a time, so each of a round's drafts has its own;
        started side by side, in the background."""

        def start(_: int) -> Worker:
            return workers(env=env, concurrency=1, include=PROVIDER, queues=queues)

        return launching.submit(lambda: list(starting.map(start, range(WORKERS_PER_ROUND))))

    def take_over(standby: list[Worker]) -> None:
        """Switch idle workers to the drafts' queue, as started workers would consume it."""
        replies = app.control.add_consumer(
            "copilot", destination=[w.node for w in standby], reply=True, timeout=10
        )
        assert len(replies) == len(standby), replies

    def drafts_received(worker: Worker) -> int:
        return len(RECEIVED.findall(worker.log()))

    try:
        running = start_workers("copilot").result(timeout=120)
        standby = start_workers("standby")
        drafts: dict[str, Draft] = {}
        kills = 0
        for round_ in range(ROUNDS):
            answers.clear()
            received_before = [drafts_received(worker) for worker in running]
            keys = [f"kill-{round_ * WORKERS_PER_ROUND + n:02d}" for n in range(WORKERS_PER_ROUND)]
            for key in keys:
                drafts[key] = _ingest(brand, customer, key)
            # Every draft's tool has run and its result is with the model: they are mid-way.
            wait_until(
                lambda keys=keys: all(model.asked(key, with_tool_result=True) for key in keys),
                timeout=30,
                what=f"round {round_}: every draft reaching its second model turn",
            )
            # Each worker holds exactly one of them: every kill below is a kill mid-draft.
            assert [drafts_received(w) for w in running] == [n + 1 for n in received_before]
            for worker in running:
                worker.kill()
                kills += 1
            for key in keys:
                assert Draft.objects.get(pk=drafts[key].pk).status == Draft.Status.GENERATING, key
            answers.set()
            running = standby.result(timeout=120)
            take_over(running)
            # The next kills wait for these drafts, so each draft loses exactly one worker.
            wait_until(
                lambda keys=keys: (
                    Draft.objects.filter(
                        pk__in=[drafts[key].pk for key in keys], status=Draft.Status.READY
                    )
                    .exclude(body="")
                    .count()
                    == len(keys)
                ),
                timeout=60,
                what=f"round {round_}: every draft ready after its worker was killed",
            )
            if round_ < ROUNDS - 1:  # while the next drafts are written, not beside the retries
                standby = start_workers("standby")
    finally:  # every worker started is stopped by the fixture, so none may still be starting
        launching.shutdown(wait=True)
        starting.shutdown(wait=True)

    assert kills == 20 and len(drafts) == 20
    for key, draft in drafts.items():
        traces = Trace.objects.filter(draft_id=draft.pk)
        assert traces.count() == 1, key
        trace = traces.get()
        assert trace.outcome == Trace.Outcome.ANSWERED
        assert trace.tool_calls_count == 1
        assert trace.tools_used == ["fetch_orders"]
        assert list(trace.spans.values_list("name", flat=True)) == [
            "chat",
            "fetch_orders",
            "chat",
            "grounding_check",
        ]
        # The killed run and its one retry: the tool's result reached the model twice, never more.
        assert len(model.asked(key, with_tool_result=True)) == 2, key
        assert key in Draft.objects.get(pk=draft.pk).body
    assert Draft.objects.filter(status__in=Draft.OPEN_STATUSES).count() == 0


def test_a_draft_left_generating_is_swept_by_beat_and_completed_once(
    shop, redis_broker, workers, slow_model
):
    """No message is left for it at all (the broker lost it): the periodic sweeper, run by
    celery beat, finds the draft stuck in `generating` past its deadline and queues it again."""
    brand, customer = shop
    model = slow_model(delay=0.2)
    ticket = TicketFactory(brand=brand, customer=customer, subject="swept-0 where is my order")
    draft = DraftFactory(ticket=ticket, status=Draft.Status.GENERATING, body="")
    Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))

    workers(env=model_env(model), beat=True)

    wait_until(
        lambda: Draft.objects.filter(pk=draft.pk, status=Draft.Status.READY).exists(),
        timeout=30,
        what="swept draft ready",
    )
    assert Trace.objects.filter(draft_id=draft.pk).count() == 1
    assert "swept-0" in Draft.objects.get(pk=draft.pk).body
