"""Signed helpdesk webhooks in: genuine events become tickets with drafts; everything else is a
clear 4xx that stores nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from copilot.helpdesks import VENDORS
from copilot.models import Customer, Draft, HelpdeskConnection, Message, Ticket, WebhookEvent
from tests.fakes import freshdesk, gorgias, zendesk

SECRET = "whsec-test-0123456789"


@pytest.fixture
def connect(brand):
    def make(kind: str = "zendesk", **fields) -> HelpdeskConnection:
        connection = HelpdeskConnection(
            brand=brand, kind=kind, base_url="http://127.0.0.1:9", **fields
        )
        connection.webhook_secret = SECRET
        connection.save()
        return connection

    return make


def deliver(client, kind: str, slug: str, body: bytes, headers: dict[str, str]):
    return client.generic(
        "POST",
        reverse("helpdesk_webhook", args=[kind, slug]),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def nothing_stored() -> bool:
    return not (
        WebhookEvent.objects.exists() or Ticket.objects.exists() or Customer.objects.exists()
    )


@pytest.mark.django_db(transaction=True)
def test_zendesk_webhook_creates_the_ticket_and_its_draft(client, brand, connect):
    connect("zendesk")
    body, headers = zendesk.webhook(SECRET, ticket_id="101", email="ana@example.com")

    response = deliver(client, "zendesk", brand.slug, body, headers)

    assert response.status_code == 202, response.content
    ticket = Ticket.objects.get(pk=response.json()["ticket_id"])
    assert ticket.external_id == "zendesk:101" and ticket.brand == brand
    assert ticket.messages.get().body == "Hello, where is my order?"
    assert ticket.customer.email == "ana@example.com" and ticket.customer.email_verified
    draft = Draft.objects.get(pk=response.json()["draft_id"])
    assert draft.ticket == ticket and draft.status == Draft.Status.READY
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.remote_ticket_id, event.ticket) == ("evt-1", "101", ticket)
    assert json.loads(event.body)["ticket"]["id"] == "101"


@pytest.mark.django_db(transaction=True)
def test_a_new_event_on_a_known_ticket_is_stored_but_makes_no_second_ticket(client, brand, connect):
    connect("zendesk")
    first = deliver(client, "zendesk", brand.slug, *zendesk.webhook(SECRET, event_id="e1"))
    second = deliver(client, "zendesk", brand.slug, *zendesk.webhook(SECRET, event_id="e2"))

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == {**first.json(), "created": False}
    assert Ticket.objects.count() == 1 and WebhookEvent.objects.count() == 2
    # Each event row says whether it was the one that created the ticket.
    assert list(WebhookEvent.objects.order_by("id").values_list("created_ticket", flat=True)) == [
        True,
        False,
    ]


@pytest.mark.django_db
def test_unverified_requester_is_stored_unverified(client, brand, connect):
    connect("zendesk")
    deliver(client, "zendesk", brand.slug, *zendesk.webhook(SECRET, verified=False))
    assert Customer.objects.get().email_verified is False


@pytest.mark.django_db
def test_gorgias_customer_comes_from_the_requester_never_from_the_text(client, brand, connect):
    connect("gorgias")
    body, headers = gorgias.webhook(SECRET, ticket_id="202", email="ana@example.com")
    assert b"boss@evil.test" in body  # the message text names another address

    response = deliver(client, "gorgias", brand.slug, body, headers)

    assert response.status_code == 202, response.content
    ticket = Ticket.objects.get()
    assert ticket.external_id == "gorgias:202"
    assert (ticket.customer.email, ticket.customer.email_verified) == ("ana@example.com", True)


@pytest.mark.django_db
def test_gorgias_mail_from_another_address_is_not_verified(client, brand, connect):
    connect("gorgias")
    deliver(client, "gorgias", brand.slug, *gorgias.webhook(SECRET, sender="someone@else.test"))
    assert Customer.objects.get().email_verified is False


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "verified"), [("1", True), ("2", False)])
def test_freshdesk_webhook_creates_the_ticket(client, brand, connect, source, verified):
    connect("freshdesk")
    response = deliver(
        client, "freshdesk", brand.slug, *freshdesk.webhook(SECRET, ticket_id="303", source=source)
    )
    assert response.status_code == 202, response.content
    ticket = Ticket.objects.get()
    assert ticket.external_id == "freshdesk:303" and ticket.subject == "Late order"
    assert ticket.customer.email_verified is verified


def generic_webhook(secret: str, **overrides) -> tuple[bytes, dict[str, str]]:
    payload = {
        "event_id": "x-1",
        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
        "ticket": {
            "id": "T-9",
            "subject": "Hi",
            "body": "Where is order 77?",
            "customer": {"id": "c9", "email": "bo@example.com", "email_verified": True},
        },
        **overrides,
    }
    body = json.dumps(payload).encode()
    return body, {
        "X-Copilot-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    }


@pytest.mark.django_db
def test_generic_json_webhook_creates_the_ticket(client, brand, connect):
    connect("generic")
    response = deliver(client, "generic", brand.slug, *generic_webhook(SECRET))
    assert response.status_code == 202, response.content
    assert Ticket.objects.get().customer.is_identified


# --- refusals: each a 4xx with a clear message; nothing stored -------------------------------


def _stale() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)


REFUSALS = {
    "bad signature": (
        "zendesk",
        lambda: zendesk.webhook("not-the-secret"),
        401,
        "bad_signature",
        "does not match",
    ),
    "missing signature": (
        "zendesk",
        lambda: (zendesk.webhook(SECRET)[0], {}),
        401,
        "bad_signature",
        "not signed",
    ),
    "stale timestamp": (
        "zendesk",
        lambda: zendesk.webhook(SECRET, timestamp=_stale()),
        401,
        "stale_timestamp",
        "the limit is 300 s",
    ),
    "timestamp from the future": (
        "zendesk",
        lambda: zendesk.webhook(SECRET, timestamp=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)),
        401,
        "stale_timestamp",
        "signed",
    ),
    "stale sent_at in a body-signed format": (
        "gorgias",
        lambda: gorgias.webhook(SECRET, sent_at=_stale()),
        401,
        "stale_timestamp",
        "the limit is 300 s",
    ),
    "malformed JSON, correctly signed": (
        "zendesk",
        lambda: zendesk.webhook(SECRET, body=b'{"ticket": {"id": 1,'),
        400,
        "malformed_payload",
        "not valid JSON",
    ),
    "JSON that is not an object": (
        "freshdesk",
        lambda: _signed_hex(b"[1, 2]"),
        400,
        "malformed_payload",
        "must be a JSON object",
    ),
    "an integer past the parser's digit limit, correctly signed": (
        "freshdesk",
        lambda: _signed_hex(b'{"sent_at": ' + b"9" * 5000 + b"}"),
        400,
        "malformed_payload",
        "not valid JSON",
    ),
    "nesting deeper than the parser's stack, correctly signed": (
        "generic",
        lambda: _signed_hex(b"[" * 100_000 + b"]" * 100_000),
        400,
        "malformed_payload",
        "not valid JSON",
    ),
    "missing ticket id": (
        "generic",
        lambda: generic_webhook(SECRET, ticket={"body": "hi"}),
        400,
        "malformed_payload",
        "'id' is required",
    ),
    "body-signed format without sent_at": (
        "generic",
        lambda: generic_webhook(SECRET, sent_at=None),
        400,
        "malformed_payload",
        "'sent_at' is required",
    ),
}


def _signed_hex(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {
        "X-Copilot-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_refused_webhooks_get_a_clear_4xx_and_store_nothing(client, brand, connect, case):
    kind, build, status, code, words = REFUSALS[case]
    connect(kind)

    response = deliver(client, kind, brand.slug, *build())

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert nothing_stored()


@pytest.mark.django_db
def test_unknown_brand_is_a_404_that_stores_nothing(client, brand, connect):
    connect("zendesk")
    response = deliver(client, "zendesk", "no-such-brand", *zendesk.webhook(SECRET))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_brand"
    assert "no-such-brand" in response.json()["error"]["message"]
    assert nothing_stored()


@pytest.mark.django_db
def test_a_brand_without_that_helpdesk_is_unknown_too(client, brand, connect):
    connect("freshdesk")
    response = deliver(client, "zendesk", brand.slug, *zendesk.webhook(SECRET))
    assert response.status_code == 404 and nothing_stored()


@pytest.mark.django_db
def test_a_disabled_connection_accepts_nothing(client, brand, connect):
    connect("zendesk", enabled=False)
    response = deliver(client, "zendesk", brand.slug, *zendesk.webhook(SECRET))
    assert response.status_code == 404 and nothing_stored()


@pytest.mark.django_db
def test_a_connection_without_secret_refuses_everything(client, brand):
    HelpdeskConnection.objects.create(brand=brand, kind="zendesk")
    response = deliver(client, "zendesk", brand.slug, *zendesk.webhook(""))
    assert (
        response.status_code == 401 and "no webhook secret" in response.json()["error"]["message"]
    )
    assert nothing_stored()


@pytest.mark.django_db
def test_oversized_body_is_a_413_before_it_is_read(client, brand, connect, settings):
    connect("zendesk")
    settings.COPILOT_INTAKE_MAX_BYTES = 2_000
    body, headers = zendesk.webhook(SECRET, description="x" * 5_000)

    response = deliver(client, "zendesk", brand.slug, body, headers)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "2000 bytes" in response.json()["error"]["message"]
    assert nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_a_replayed_event_is_a_409_and_stores_nothing_more(client, brand, connect):
    connect("zendesk")
    body, headers = zendesk.webhook(SECRET, event_id="evt-9")
    assert deliver(client, "zendesk", brand.slug, body, headers).status_code == 202
    counts = (WebhookEvent.objects.count(), Ticket.objects.count(), Message.objects.count())

    replay = deliver(client, "zendesk", brand.slug, body, headers)

    assert replay.status_code == 409
    assert replay.json()["error"] == {
        "code": "duplicate_event",
        "message": "Event 'evt-9' for ticket 101 was already received.",
    }
    assert (WebhookEvent.objects.count(), Ticket.objects.count(), Message.objects.count()) == counts
    assert Draft.objects.count() == 1


@pytest.mark.django_db
def test_webhook_endpoint_only_takes_post(client, brand, connect):
    connect("zendesk")
    assert client.get(reverse("helpdesk_webhook", args=["zendesk", brand.slug])).status_code == 405


def test_every_helpdesk_kind_has_its_integration_and_its_webhook_url():
    assert set(VENDORS) == set(HelpdeskConnection.Kind.values)
    for kind in VENDORS:
        assert reverse("helpdesk_webhook", args=[kind, "acme"]) == f"/hooks/{kind}/acme/"
        assert HelpdeskConnection.Kind(kind).label == VENDORS[kind].LABEL
