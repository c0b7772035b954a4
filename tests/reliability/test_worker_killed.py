"""A worker killed with -9 mid-draft loses nothing and duplicates nothing.

Each round: a ticket comes in, its draft runs on a real worker (the model asks for
`fetch_orders`, the tool runs, the model is slow to write the answer), the worker is
killed while the answer is being written, a new worker starts. Redis gives the
unacknowledged message back after the visibility timeout and the new worker finishes
the draft. Twenty rounds; then every draft has exactly one trace, and each tool ran at most
twice (the killed run and its one retry).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import Trace
from copilot import services
from copilot.models import Draft
from tests.factories import DraftFactory, TicketFactory
from tests.reliability.conftest import model_env
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.postgres]

ROUNDS = 20


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
    brand, customer = shop
    model = slow_model(tool_call="fetch_orders", delay=1.5)
    env = model_env(model)
    worker = workers(env=env)
    drafts: dict[str, Draft] = {}

    for n in range(ROUNDS):
        key = f"kill-{n:02d}"
        draft = drafts[key] = _ingest(brand, customer, key)
        # The tool has run and its result is with the model: the draft is mid-way.
        wait_until(
            lambda key=key: model.asked(key, with_tool_result=True),
            timeout=30,
            what=f"{key} reaching its second model turn",
        )
        worker.kill()
        assert Draft.objects.get(pk=draft.pk).status == Draft.Status.GENERATING
        worker = workers(env=env)
        # The next kill waits for this draft, so each draft loses exactly one worker.
        wait_until(
            lambda draft=draft: (
                Draft.objects.filter(pk=draft.pk, status=Draft.Status.READY)
                .exclude(body="")
                .exists()
            ),
            timeout=60,
            what=f"{key} ready after its worker was killed",
        )

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
