"""With a broker, a burst of traces of one brand and day queues one rollup refresh."""

from __future__ import annotations

import pytest

from audit import tasks
from audit.services import ROLLUP_COALESCE_SECONDS, trace_record
from copilot.celery import app
from tests.factories import DraftFactory, TicketFactory
from tests.traces import trace_data

pytestmark = pytest.mark.django_db


def record(brand) -> None:
    trace_record(
        draft=DraftFactory(ticket=TicketFactory(brand=brand)),
        data=trace_data(),
    )


@pytest.fixture
def queued(monkeypatch):
    """The refreshes published to the broker (eager mode off for the test)."""
    published: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(
        tasks.rollup_refresh_task, "apply_async", lambda args, **kw: published.append((args, kw))
    )
    eager = app.conf.task_always_eager
    app.conf.update(task_always_eager=False)
    try:
        yield published
    finally:
        app.conf.update(task_always_eager=eager)


def test_a_burst_of_traces_queues_one_delayed_refresh(
    brand, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            record(brand)

    assert len(queued) == 1
    (brand_id, _day), options = queued[0]
    assert brand_id == brand.pk and options == {"countdown": ROLLUP_COALESCE_SECONDS}


def test_a_trace_after_the_refresh_started_queues_another(
    brand, queued, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.services, "rollup_refresh", lambda **kwargs: [])
    with django_capture_on_commit_callbacks(execute=True):
        record(brand)
    tasks.rollup_refresh_task(*queued[0][0])  # the worker starts the refresh

    with django_capture_on_commit_callbacks(execute=True):
        record(brand)

    assert len(queued) == 2
