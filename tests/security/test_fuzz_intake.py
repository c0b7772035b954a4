"""Fuzzing of what strangers can send: the intake parser and every endpoint that takes
requests without a session (csrf-exempt machine endpoints, such as helpdesk webhooks) never
answer 5xx; they accept (2xx) or say clearly what is wrong (4xx)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.exceptions import CopilotError
from copilot.helpdesks import VENDORS
from copilot.ingest import parse_ticket_payload
from copilot.models import HelpdeskConnection
from tests.fakes import zendesk
from tests.security.urls import endpoints

# The parser needs no database; the endpoints are fuzzed on PostgreSQL, which refuses what
# SQLite lets through (a NUL character in a text, for one).

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
field_values = st.one_of(
    json_values, st.text(max_size=400), st.emails(), st.text(min_size=1, max_size=5)
)
ticket_like = st.fixed_dictionaries(
    {},
    optional={
        "external_id": field_values,
        "subject": field_values,
        "body": field_values,
        "customer": st.one_of(
            field_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "external_id": field_values,
                    "email": field_values,
                    "email_verified": field_values,
                    "name": field_values,
                },
            ),
        ),
    },
)
# Bodies that broke JSON parsers elsewhere: deep nesting, huge numbers, bad UTF-8.
nasty_bodies = st.sampled_from(
    [
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b"1" * 5_000,
        b'{"external_id": ' + b"9" * 5_000 + b"}",
        b"\xff\xfe\x00",
        b'{"body": "\\ud800"}',
        b"NaN",
        b"",
    ]
)
bodies = st.one_of(
    ticket_like.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    nasty_bodies,
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
)


@FUZZ
@given(body=bodies, content_type=content_types)
def test_parse_ticket_payload_returns_fields_or_a_clear_4xx(body, content_type):
    request = RequestFactory().post("/api/v1/tickets", data=body, content_type=content_type)
    try:
        fields = parse_ticket_payload(request)
    except CopilotError as error:
        assert 400 <= error.status < 500
        assert error.code and error.message
        return
    assert fields["external_id"] and fields["body"]
    assert all(isinstance(fields[k], str) for k in fields if k != "customer_email_verified")
    assert isinstance(fields["customer_email_verified"], bool)


@pytest.mark.postgres
@pytest.mark.django_db
@FUZZ
@given(body=bodies, content_type=content_types)
def test_intake_endpoint_answers_202_or_a_clear_4xx(brand, body, content_type):
    token = getattr(brand, "_fuzz_token", None) or brand.rotate_api_token()
    brand._fuzz_token = token
    response = Client().post(
        "/api/v1/tickets", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 202 or 400 <= response.status_code < 500
    if response.status_code != 202:
        error = response.json()["error"]
        assert error["code"] and error["message"]


@pytest.mark.postgres
@pytest.mark.django_db
@FUZZ
@given(
    body=bodies,
    content_type=content_types,
    headers=st.dictionaries(
        st.sampled_from(
            [
                "HTTP_AUTHORIZATION",
                "HTTP_X_SIGNATURE",
                "HTTP_X_HUB_SIGNATURE_256",
                "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE",
            ]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
        max_size=2,
    ),
)
def test_every_machine_endpoint_never_answers_5xx(body, content_type, headers):
    client = Client()
    for endpoint in endpoints():
        if not endpoint.csrf_exempt or endpoint.parameters:
            continue
        response = client.post(endpoint.url({}), body, content_type=content_type, **headers)
        assert response.status_code < 500, (endpoint.name, body[:80])


# Webhook bodies that pass the signature and the timestamp, so the vendors' parsers get them.
ticket_keys = ["id", "subject", "body", "description", "messages", "customer", "requester"]
webhook_like = st.fixed_dictionaries(
    {"sent_at": st.builds(lambda: dt.datetime.now(dt.UTC).isoformat())},
    optional={
        "id": field_values,
        "event_id": field_values,
        "ticket": st.one_of(
            field_values, st.dictionaries(st.sampled_from(ticket_keys), json_values, max_size=5)
        ),
        "freshdesk_webhook": st.dictionaries(
            st.sampled_from(
                ["ticket_id", "ticket_subject", "ticket_description", "ticket_requester_email"]
            ),
            field_values,
            max_size=4,
        ),
    },
)
SECRET = "whsec-fuzz"


def signed(kind: str, body: bytes) -> dict[str, str]:
    """The headers the helpdesk `kind` would send with `body`, correctly signed."""
    if kind == "zendesk":
        return zendesk.webhook(SECRET, body=body)[1]
    return {"X-Copilot-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


@pytest.mark.postgres
@pytest.mark.django_db
@FUZZ
@given(
    kind=st.sampled_from(sorted(VENDORS)),
    body=st.one_of(webhook_like.map(lambda v: json.dumps(v).encode()), bodies),
)
def test_signed_webhooks_answer_202_or_a_clear_4xx(brand, kind, body):
    connection = HelpdeskConnection.objects.filter(brand=brand).first() or HelpdeskConnection(
        brand=brand, base_url="http://127.0.0.1:9", webhook_secret=SECRET
    )
    connection.kind = kind  # a brand has one helpdesk; the examples try every kind
    connection.save()

    response = Client().generic(
        "POST",
        f"/hooks/{kind}/{brand.slug}/",
        data=body,
        content_type="application/json",
        headers=signed(kind, body),
    )

    assert response.status_code == 202 or 400 <= response.status_code < 500, body[:120]
    if response.status_code != 202:
        error = response.json()["error"]
        assert error["code"] and error["message"]
