"""The production shape: PostgreSQL, Redis and a real Celery worker process (not eager mode)."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from audit.models import Trace
from copilot.models import Draft, Role
from tests.factories import DemoOrderFactory, DemoShipmentFactory
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_posted_ticket_is_drafted_by_the_worker_and_accepted_over_http(
    celery_worker_process, client, brand, enable_fetch_orders, member
):
    enable_fetch_orders(brand)
    order = DemoOrderFactory(brand=brand, number="PG-1001", customer__email="zoe@example.com")
    DemoShipmentFactory(order=order, tracking_number="PGTRACK77")
    token = brand.rotate_api_token()

    started = time.monotonic()
    response = client.post(
        reverse("api_ticket_create"),
        data=json.dumps(
            {
                "external_id": "pg-1",
                "body": "Where is my order PG-1001?",
                "customer": {
                    "external_id": "z",
                    "email": "zoe@example.com",
                    "email_verified": True,
                },
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202
    draft_id = response.json()["draft_id"]

    draft = wait_until(lambda: Draft.objects.filter(pk=draft_id, status=Draft.Status.READY).first())
    elapsed = time.monotonic() - started
    assert elapsed < 15
    assert "PGTRACK77" in draft.body
    trace = Trace.objects.get(draft=draft)
    assert trace.tools_used == ["fetch_orders"]

    agent, user = member(brand, Role.AGENT)
    accepted = agent.post(
        reverse("draft_decide", args=[draft_id, "accept"]), {"version": draft.version}
    )
    assert accepted.status_code == 302
    draft.refresh_from_db()
    assert draft.decision == Draft.Decision.ACCEPTED
    assert draft.decided_by == user


@pytest.mark.postgres
def test_the_suite_runs_on_postgresql():
    from django.db import connection

    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]
