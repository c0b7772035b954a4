"""A storm of 429s from the model: Retry-After is honoured, retries are bounded, and every
draft ends answered or failed with a reason: none is stuck, none is written twice."""

from __future__ import annotations

import itertools

import pytest

from audit.models import Span, Trace
from copilot import services
from copilot.models import Draft
from tests.factories import DraftFactory, TicketFactory
from tests.reliability.conftest import model_env
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def openai_at(settings):
    def point(model) -> None:
        settings.COPILOT_PROVIDER = "openai"
        settings.OPENAI_BASE_URL = model.url
        settings.OPENAI_API_KEY = "test"
        settings.OPENAI_MAX_RETRIES = 2

    return point


def _draft(brand, subject: str) -> Draft:
    ticket = TicketFactory(brand=brand, subject=subject)
    return DraftFactory(ticket=ticket, status=Draft.Status.PENDING, body="")


@pytest.mark.django_db(transaction=True)
def test_a_short_burst_of_429s_is_waited_out_as_retry_after_says(brand, slow_model, openai_at):
    model = slow_model(fail_first=2, retry_after=0.4)
    openai_at(model)
    draft = _draft(brand, "burst-1")

    services.draft_generate(draft_id=draft.pk)

    draft.refresh_from_db()
    assert draft.status == Draft.Status.READY
    assert "burst-1" in draft.body
    spans = list(Trace.objects.get(draft=draft).spans.filter(kind=Span.Kind.LLM).order_by("seq"))
    assert [(s.status, (s.error or {}).get("code")) for s in spans] == [
        (Span.Status.ERROR, "provider_rate_limited"),
        (Span.Status.ERROR, "provider_rate_limited"),
        (Span.Status.OK, None),
    ]
    asked = [r.at for r in model.asked("burst-1")]
    assert [r.status for r in model.asked("burst-1")] == [429, 429, 200]
    assert all(later - earlier >= 0.35 for earlier, later in itertools.pairwise(asked))


@pytest.mark.django_db(transaction=True)
def test_an_endless_429_storm_fails_the_draft_with_a_reason_after_bounded_retries(
    brand, slow_model, openai_at
):
    model = slow_model(fail_first=10_000, retry_after=0.1)
    openai_at(model)
    draft = _draft(brand, "storm-1")

    services.draft_generate(draft_id=draft.pk)

    draft.refresh_from_db()
    trace = Trace.objects.get(draft=draft)
    assert draft.status == Draft.Status.FAILED
    assert draft.status_reason == "The AI model is rate-limiting requests."
    assert trace.error_code == "provider_rate_limited"
    assert len(model.asked("storm-1")) == 3  # one call and OPENAI_MAX_RETRIES retries


@pytest.mark.services
def test_a_429_storm_over_many_drafts_on_a_real_worker_leaves_nothing_stuck(
    brand, redis_broker, workers, slow_model
):
    drafts = 30
    model = slow_model(fail_first=45, retry_after=0.2, delay=0.1)
    workers(env={**model_env(model), "OPENAI_MAX_RETRIES": "2"}, concurrency=30)
    ids = [
        services.draft_request(ticket=TicketFactory(brand=brand, subject=f"storm-{n:02d}")).pk
        for n in range(drafts)
    ]

    wait_until(
        lambda: not Draft.objects.filter(pk__in=ids, status__in=Draft.OPEN_STATUSES).exists(),
        timeout=60,
        what="every draft answered or failed",
    )

    assert Trace.objects.filter(draft_id__in=ids).count() == drafts
    failed = Draft.objects.filter(pk__in=ids, status=Draft.Status.FAILED)
    assert set(Trace.objects.filter(draft__in=failed).values_list("error_code", flat=True)) <= {
        "provider_rate_limited"
    }
    assert Draft.objects.filter(pk__in=ids, status=Draft.Status.READY).exists()
    # Bounded: at most three calls per draft, whatever the storm.
    assert len(model.requests) <= 3 * drafts
    for n in range(drafts):
        assert len(model.asked(f"storm-{n:02d}")) <= 3
