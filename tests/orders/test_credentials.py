"""Credentials never appear in plain text: not in the database, the logs, the traces, the
settings page or the Django admin; and they survive a key rotation."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit.models import Span, Trace
from copilot import services as copilot_services
from copilot.models import Role
from orders.models import OrderSource
from tests.conftest import login
from tests.factories import OrderSourceFactory, UserFactory
from tests.fakes.prestashop import API_KEY
from tests.fakes.shopify import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def raw_credentials() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM orders_ordersource ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_credentials_are_encrypted_in_the_database(brand):
    OrderSourceFactory(brand=brand, kind="shopify", credentials={"access_token": TOKEN})

    (stored,) = raw_credentials()

    assert TOKEN not in stored and "access_token" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert OrderSource.objects.get(brand=brand).credentials == {"access_token": TOKEN}


def _everything_logged(records: list[logging.LogRecord]) -> str:
    return "\n".join(
        record.getMessage() + " " + json.dumps(record.__dict__, default=str) for record in records
    )


@pytest.mark.parametrize("kind", ["shopify", "prestashop"])
def test_credentials_never_reach_logs_or_traces(
    brand, member, enable_fetch_orders, shopify, prestashop, caplog, kind
):
    caplog.set_level(logging.DEBUG)
    fake, secret = (shopify, TOKEN) if kind == "shopify" else (prestashop, API_KEY)
    enable_fetch_orders(brand)
    admin, _ = member(brand, Role.ADMIN)
    data = {
        "kind": kind,
        "shop_url": fake.shop_url,
        "secret": secret,
        "timeout_seconds": 1,
        "allowed_fields": ["number", "status", "shipments"],
    }
    admin.post(reverse("order_source_settings", args=[brand.slug]), data)
    admin.post(reverse("order_source_test", args=[brand.slug]), data, HTTP_HX_REQUEST="true")
    fake.fail("401", times=1)
    fake.fail("500", times=None)
    for n in range(2):  # one run fails on auth, one on 5xx after retries
        copilot_services.ticket_ingest(
            brand=brand,
            external_id=f"sec-{n}",
            body="Where is my order?",
            customer_external_id="ana",
            customer_email="ana@example.com",
            customer_email_verified=True,
        )
    fake.heal()
    copilot_services.ticket_ingest(
        brand=brand,
        external_id="sec-ok",
        body="Where is my order?",
        customer_external_id="ana",
        customer_email="ana@example.com",
        customer_email_verified=True,
    )

    logged = _everything_logged(caplog.records)
    assert "orders.http.response" in logged  # the helper did log its events
    assert "orders.fetch_orders.failed" in logged
    assert secret not in logged
    assert "ana@example.com" not in logged  # the query string (an email) is not logged either
    spans = list(Span.objects.filter(trace__brand=brand).values())
    assert len(spans) >= 9 and Trace.objects.filter(brand=brand).count() == 3
    assert secret not in json.dumps(spans, default=str)
    assert secret not in json.dumps(list(Trace.objects.values()), default=str)


def test_credentials_never_appear_in_the_django_admin(brand):
    source = OrderSourceFactory(brand=brand, kind="prestashop", credentials={"api_key": API_KEY})
    staff = login(UserFactory(is_staff=True, is_superuser=True))

    change = staff.get(reverse("admin:orders_ordersource_change", args=[source.pk]))
    listing = staff.get(reverse("admin:orders_ordersource_changelist"))

    assert change.status_code == listing.status_code == 200
    assert API_KEY not in change.content.decode() and API_KEY not in listing.content.decode()
    assert 'name="secret"' in change.content.decode()  # write-only input, rendered empty
    assert 'name="credentials"' not in change.content.decode()


def test_the_django_admin_saves_a_new_credential_encrypted(brand, shopify):
    source = OrderSourceFactory(brand=brand, kind="demo")
    staff = login(UserFactory(is_staff=True, is_superuser=True))

    response = staff.post(
        reverse("admin:orders_ordersource_change", args=[source.pk]),
        {
            "brand": brand.pk,
            "kind": "shopify",
            "shop_url": shopify.shop_url,
            "secret": TOKEN,
            "timeout_seconds": 2,
            "allowed_fields": ["number", "status"],
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    source.refresh_from_db()
    assert source.kind == "shopify" and source.credentials == {"access_token": TOKEN}
    assert TOKEN not in raw_credentials()[0]


def test_rotation_re_encrypts_with_the_newest_key(brand, settings):
    settings.COPILOT_ENCRYPTION_KEYS = ["old-key"]
    OrderSourceFactory(brand=brand, kind="shopify", credentials={"access_token": TOKEN})
    before = raw_credentials()[0]

    settings.COPILOT_ENCRYPTION_KEYS = ["new-key", "old-key"]
    out = io.StringIO()
    call_command("rotate_order_secrets", stdout=out)
    settings.COPILOT_ENCRYPTION_KEYS = ["new-key"]

    after = raw_credentials()[0]
    assert "1 order source" in out.getvalue()
    assert after != before and TOKEN not in after
    assert OrderSource.objects.get(brand=brand).credentials == {"access_token": TOKEN}
