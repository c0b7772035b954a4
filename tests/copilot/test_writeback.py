"""Accepted drafts go back to the helpdesk through the outbox: one post per draft, retried only
on transient errors, reconciled after an uncertain attempt, visible on the ticket."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from copilot.helpdesks.services import (
    DeliveryRetry,
    backoff_seconds,
    reply_deliver,
    reply_delivery_due,
)
from copilot.models import HelpdeskConnection, ReplyDelivery, Role
from tests.factories import DraftFactory, TicketFactory
from tests.fakes import freshdesk, generic, gorgias, zendesk
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.generic import FakeGeneric
from tests.fakes.gorgias import FakeGorgias
from tests.fakes.zendesk import FakeZendesk

pytestmark = pytest.mark.django_db(transaction=True)

CREDENTIALS = {
    "zendesk": {"email": zendesk.EMAIL, "api_token": zendesk.TOKEN},
    "gorgias": {"username": gorgias.USER, "api_key": gorgias.KEY},
    "freshdesk": {"api_key": freshdesk.API_KEY},
    "generic": {"token": generic.TOKEN},
}
FAKES = {
    "zendesk": FakeZendesk,
    "gorgias": FakeGorgias,
    "freshdesk": FakeFreshdesk,
    "generic": FakeGeneric,
}


def connect(brand, fake, kind: str, **fields) -> HelpdeskConnection:
    return HelpdeskConnection.objects.create(
        brand=brand,
        kind=kind,
        base_url=fake.url,
        credentials=CREDENTIALS[kind],
        webhook_secret="s",
        timeout_seconds=2,
        **fields,
    )


def ready_draft(brand, external_id: str = "zendesk:101", body: str = "Your parcel ships today."):
    return DraftFactory(ticket=TicketFactory(brand=brand, external_id=external_id), body=body)


def accept(agent, draft):
    return agent.post(
        reverse("draft_decide", args=[draft.pk, "accept"]), {"version": draft.version}
    )


@pytest.fixture
def fake_zendesk():
    with FakeZendesk() as fake:
        yield fake


def test_accepting_posts_exactly_one_internal_note_to_zendesk(brand, member, fake_zendesk):
    connect(brand, fake_zendesk, "zendesk")
    draft = ready_draft(brand)
    agent, _ = member(brand, Role.AGENT)

    assert accept(agent, draft).status_code == 302

    assert [(p.ticket_id, p.text, p.public) for p in fake_zendesk.posted] == [
        ("101", "Your parcel ships today.", False)
    ]
    delivery = ReplyDelivery.objects.get(draft=draft)
    assert (delivery.status, delivery.attempts, delivery.reconciled) == ("sent", 1, False)
    assert delivery.remote_id == str(fake_zendesk.posted[0].id)
    page = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()
    assert "internal note" in page and "Posted" in page

    # Running the task again (a duplicate message, a sweep) posts nothing more.
    assert reply_deliver(delivery_id=delivery.pk) is None
    assert len(fake_zendesk.posted) == 1


def test_edited_text_goes_out_as_a_public_reply_when_the_brand_says_so(brand, member):
    with FakeFreshdesk() as fake:
        connect(brand, fake, "freshdesk", reply_mode=HelpdeskConnection.ReplyMode.PUBLIC)
        draft = ready_draft(brand, external_id="freshdesk:102")
        agent, _ = member(brand, Role.AGENT)

        agent.post(
            reverse("draft_decide", args=[draft.pk, "edit"]),
            {"version": draft.version, "text": "Hello <Ana>,\nit ships today."},
        )

        assert [(p.ticket_id, p.text, p.public) for p in fake.posted] == [
            ("102", "Hello <Ana>,\nit ships today.", True)
        ]
        assert fake.requests[-1].path == "/api/v2/tickets/102/reply"


def test_gorgias_gets_an_internal_note_carrying_the_delivery_key(brand, member):
    with FakeGorgias() as fake:
        connect(brand, fake, "gorgias")
        draft = ready_draft(brand, external_id="gorgias:103")
        accept(member(brand, Role.AGENT)[0], draft)

        delivery = ReplyDelivery.objects.get(draft=draft)
        assert [(p.ticket_id, p.public, p.key) for p in fake.posted] == [
            ("103", False, delivery.key)
        ]


def test_the_generic_contract_gets_a_public_reply_with_its_idempotency_key(brand, member):
    with FakeGeneric() as fake:
        connect(brand, fake, "generic", reply_mode=HelpdeskConnection.ReplyMode.PUBLIC)
        draft = ready_draft(brand, external_id="generic:T-9")
        fake.tickets.add("T-9")

        accept(member(brand, Role.AGENT)[0], draft)

        delivery = ReplyDelivery.objects.get(draft=draft)
        assert delivery.status == "sent"
        assert [(p.ticket_id, p.public, p.key) for p in fake.posted] == [
            ("T-9", True, delivery.key)
        ]


def test_rejected_drafts_and_tickets_from_elsewhere_post_nothing(brand, member, fake_zendesk):
    connect(brand, fake_zendesk, "zendesk")
    agent, _ = member(brand, Role.AGENT)
    rejected = ready_draft(brand)
    agent.post(reverse("draft_decide", args=[rejected.pk, "reject"]), {"version": 1})
    from_api = ready_draft(brand, external_id="api-7")
    accept(agent, from_api)

    assert fake_zendesk.posted == [] and not ReplyDelivery.objects.exists()


def outbox_row(draft) -> ReplyDelivery:
    """The row `reply_delivery_create` writes, without enqueuing its (eager) task."""
    connection = draft.ticket.brand.helpdesk
    return ReplyDelivery.objects.create(
        draft=draft,
        connection=connection,
        key=f"copilot-{draft.pk}-k",
        remote_ticket_id=connection.remote_ticket_id(draft.ticket),
        text=draft.body,
    )


def claimed_before(draft, fake, *, posted: bool) -> ReplyDelivery:
    """The state a worker killed mid-attempt leaves: claimed, lease run out, maybe posted."""
    delivery = ReplyDelivery.objects.get(draft=draft)
    if posted:
        fake.store(
            delivery.remote_ticket_id, delivery.text, public=delivery.public, key=delivery.key
        )
    ReplyDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=1, lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    return delivery


@pytest.mark.parametrize("kind", list(FAKES))
def test_an_attempt_after_an_uncertain_one_finds_the_post_and_does_not_repeat_it(brand, kind):
    with FAKES[kind]() as fake:
        connect(brand, fake, kind)
        draft = ready_draft(brand, external_id=f"{kind}:101")
        delivery = outbox_row(draft)
        claimed_before(draft, fake, posted=True)

        done = reply_deliver(delivery_id=delivery.pk)

        assert (done.status, done.reconciled, done.attempts) == ("sent", True, 2)
        assert len(fake.posted) == 1


def test_an_attempt_after_an_uncertain_one_posts_when_nothing_arrived(brand, fake_zendesk):
    connect(brand, fake_zendesk, "zendesk")
    draft = ready_draft(brand)
    delivery = outbox_row(draft)
    claimed_before(draft, fake_zendesk, posted=False)

    done = reply_deliver(delivery_id=delivery.pk)

    assert (done.status, done.reconciled) == ("sent", False)
    assert len(fake_zendesk.posted) == 1


def test_an_attempt_in_flight_is_not_doubled(brand, fake_zendesk):
    connect(brand, fake_zendesk, "zendesk")
    draft = ready_draft(brand)
    delivery = outbox_row(draft)
    ReplyDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=1, lease_until=timezone.now() + dt.timedelta(seconds=30)
    )

    with pytest.raises(DeliveryRetry) as retry:
        reply_deliver(delivery_id=delivery.pk)

    assert 29 <= retry.value.countdown <= 32
    assert fake_zendesk.posted == [] and fake_zendesk.requests == []


def test_transient_failures_are_retried_with_growing_backoff_and_shown(
    brand, member, fake_zendesk, settings
):
    settings.COPILOT_HELPDESK_RETRY_BASE_SECONDS = 30
    connect(brand, fake_zendesk, "zendesk")
    fake_zendesk.failures = [503, 503]
    draft = ready_draft(brand)
    agent, _ = member(brand, Role.AGENT)

    accept(agent, draft)  # eager: the first attempt fails, the retry waits for its time

    delivery = ReplyDelivery.objects.get(draft=draft)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.last_error_code == "helpdesk_unavailable"
    first_wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert 29 <= first_wait <= 31
    page = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()
    assert "Retrying" in page and "helpdesk_unavailable: Zendesk answered 503." in page
    assert "Next attempt at" in page

    with pytest.raises(DeliveryRetry) as retry:
        reply_deliver(delivery_id=delivery.pk)
    assert retry.value.countdown == 60  # doubled

    done = reply_deliver(delivery_id=delivery.pk)
    assert (done.status, done.attempts, done.last_error) == ("sent", 3, "")
    assert len(fake_zendesk.posted) == 1
    assert "Posted" in agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()


def test_a_permanent_error_is_not_retried_and_is_shown(brand, member, fake_zendesk):
    connection = connect(brand, fake_zendesk, "zendesk")
    connection.credentials = {"email": zendesk.EMAIL, "api_token": "wrong"}
    connection.save()
    draft = ready_draft(brand)
    agent, _ = member(brand, Role.AGENT)

    accept(agent, draft)

    delivery = ReplyDelivery.objects.get(draft=draft)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)
    assert delivery.last_error_code == "helpdesk_auth_failed"
    assert reply_deliver(delivery_id=delivery.pk) is None  # failed rows stay failed
    page = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()
    assert "Failed" in page and "refused the credentials (401)" in page


def test_the_last_allowed_attempt_gives_up(brand, fake_zendesk, settings):
    settings.COPILOT_HELPDESK_MAX_ATTEMPTS = 2
    connect(brand, fake_zendesk, "zendesk")
    fake_zendesk.failures = [503, 503, 503]
    draft = ready_draft(brand)
    delivery = outbox_row(draft)
    with pytest.raises(DeliveryRetry):
        reply_deliver(delivery_id=delivery.pk)
    done = reply_deliver(delivery_id=delivery.pk)

    assert (done.status, done.attempts) == ("failed", 2)
    assert fake_zendesk.posted == []


def test_backoff_doubles_and_is_capped(settings):
    settings.COPILOT_HELPDESK_RETRY_BASE_SECONDS = 30
    settings.COPILOT_HELPDESK_RETRY_MAX_SECONDS = 200
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]


def test_the_sweep_finds_due_retries_lost_enqueues_and_dead_attempts(brand, fake_zendesk):
    connect(brand, fake_zendesk, "zendesk")
    now = timezone.now()
    rows = {}
    for name, fields in {
        "retry_due": {"status": "retrying", "next_attempt_at": now - dt.timedelta(seconds=1)},
        "retry_later": {"status": "retrying", "next_attempt_at": now + dt.timedelta(minutes=5)},
        "dead_worker": {"status": "sending", "lease_until": now - dt.timedelta(seconds=1)},
        "in_flight": {"status": "sending", "lease_until": now + dt.timedelta(minutes=1)},
        "sent": {"status": "sent"},
    }.items():
        draft = ready_draft(brand, external_id=f"zendesk:{name}")
        rows[name] = ReplyDelivery.objects.create(
            draft=draft,
            connection=brand.helpdesk,
            key=name,
            remote_ticket_id=name,
            text="t",
            **fields,
        )

    due = set(reply_delivery_due())

    assert due == {rows["retry_due"].pk, rows["dead_worker"].pk}


def test_the_sweep_task_delivers_what_is_due(brand, fake_zendesk):
    from copilot.tasks import reply_delivery_sweep_task

    connect(brand, fake_zendesk, "zendesk")
    draft = ready_draft(brand)
    delivery = outbox_row(draft)
    ReplyDelivery.objects.filter(pk=delivery.pk).update(
        status="retrying", attempts=1, next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )

    reply_delivery_sweep_task()  # eager here: each due row is attempted in-process

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(fake_zendesk.posted) == 1


def test_the_delivery_line_refreshes_itself_until_settled_and_is_brand_scoped(
    brand, member, fake_zendesk
):
    connect(brand, fake_zendesk, "zendesk")
    draft = ready_draft(brand)
    delivery = outbox_row(draft)
    agent, _ = member(brand, Role.AGENT)
    url = reverse("delivery_status", args=[draft.pk])

    open_line = agent.get(url, HTTP_HX_REQUEST="true").content.decode()
    ReplyDelivery.objects.filter(pk=delivery.pk).update(status="sent", sent_at=timezone.now())
    settled = agent.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert "Queued" in open_line and 'hx-trigger="every 2s"' in open_line
    assert "Posted" in settled and "hx-trigger" not in settled
    from tests.factories import BrandFactory

    outsider, _ = member(BrandFactory(), Role.ADMIN)
    assert outsider.get(url).status_code == 404
