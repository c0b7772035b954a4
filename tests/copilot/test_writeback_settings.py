"""The per-brand helpdesk settings: admins only, credentials encrypted and never rendered,
a "Test connection" button that calls the helpdesk's API."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.urls import reverse

from copilot.models import HelpdeskConnection, Role
from tests.factories import BrandFactory
from tests.fakes import zendesk
from tests.fakes.zendesk import FakeZendesk

pytestmark = pytest.mark.django_db

FORM = {
    "kind": "zendesk",
    "base_url": "https://acme.zendesk.com",
    "reply_mode": "internal",
    "enabled": "on",
    "timeout_seconds": "10",
    "api_user": zendesk.EMAIL,
    "api_secret": "zd-token-SECRET-1",
    "secret": "whsec-SECRET-2",
}


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD])
def test_only_admins_reach_the_helpdesk_settings(brand, member, role):
    client, _ = member(brand, role)
    assert client.get(reverse("helpdesk_settings", args=[brand.slug])).status_code == 404
    assert client.post(reverse("helpdesk_settings", args=[brand.slug]), FORM).status_code == 404
    assert client.post(reverse("helpdesk_test", args=[brand.slug])).status_code == 404
    assert not HelpdeskConnection.objects.exists()


def test_an_admin_of_another_brand_gets_a_404(brand, member):
    client, _ = member(BrandFactory(), Role.ADMIN)
    assert client.get(reverse("helpdesk_settings", args=[brand.slug])).status_code == 404


def test_saved_credentials_are_encrypted_and_never_rendered(brand, member):
    admin, _ = member(brand, Role.ADMIN)

    response = admin.post(reverse("helpdesk_settings", args=[brand.slug]), FORM)

    assert response.status_code == 302
    connection = HelpdeskConnection.objects.get(brand=brand)
    assert connection.credentials == {"email": zendesk.EMAIL, "api_token": "zd-token-SECRET-1"}
    assert connection.webhook_secret == "whsec-SECRET-2"
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials, webhook_secret FROM copilot_helpdeskconnection")
        raw = " ".join(cursor.fetchone())
    assert "SECRET" not in raw and zendesk.EMAIL not in raw
    page = admin.get(reverse("helpdesk_settings", args=[brand.slug])).content.decode()
    assert "SECRET" not in page and zendesk.EMAIL not in page
    assert f"/hooks/zendesk/{brand.slug}/" in page and "webhook secret" in page


def test_blank_secret_fields_keep_what_is_stored(brand, member):
    admin, _ = member(brand, Role.ADMIN)
    admin.post(reverse("helpdesk_settings", args=[brand.slug]), FORM)

    admin.post(
        reverse("helpdesk_settings", args=[brand.slug]),
        {**FORM, "api_user": "", "api_secret": "", "secret": "", "reply_mode": "public"},
    )

    connection = HelpdeskConnection.objects.get(brand=brand)
    assert connection.reply_mode == "public"
    assert connection.credentials["api_token"] == "zd-token-SECRET-1"
    assert connection.webhook_secret == "whsec-SECRET-2"


def test_invalid_settings_are_refused_with_the_form(brand, member):
    admin, _ = member(brand, Role.ADMIN)
    response = admin.post(
        reverse("helpdesk_settings", args=[brand.slug]), {**FORM, "timeout_seconds": "600"}
    )
    assert response.status_code == 400 and "Between 1 and 60 seconds." in response.content.decode()
    assert not HelpdeskConnection.objects.exists()


@pytest.mark.parametrize(
    ("token", "badge", "words"),
    [
        (zendesk.TOKEN, "Connected", f"signed in as {zendesk.EMAIL}"),
        ("wrong-token", "Failed", "helpdesk_auth_failed: Zendesk refused the credentials (401)."),
    ],
)
def test_test_connection_calls_the_helpdesk_and_shows_the_result(
    brand, member, token, badge, words
):
    admin, _ = member(brand, Role.ADMIN)
    with FakeZendesk() as fake:
        admin.post(
            reverse("helpdesk_settings", args=[brand.slug]),
            {**FORM, "base_url": fake.url, "api_secret": token},
        )

        response = admin.post(reverse("helpdesk_test", args=[brand.slug]), HTTP_HX_REQUEST="true")

        assert fake.requests[-1].path == "/api/v2/users/me"
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<p id="check-result"')
    assert badge in html and words in html
    connection = HelpdeskConnection.objects.get(brand=brand)
    assert connection.last_check_ok is (badge == "Connected")


def test_an_unreachable_helpdesk_is_reported_not_raised(brand, member):
    admin, _ = member(brand, Role.ADMIN)
    admin.post(
        reverse("helpdesk_settings", args=[brand.slug]), {**FORM, "base_url": "http://127.0.0.1:9"}
    )

    response = admin.post(reverse("helpdesk_test", args=[brand.slug]), HTTP_HX_REQUEST="true")

    assert "helpdesk_unavailable: Zendesk could not be reached" in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("zendesk", f"signed in as {zendesk.EMAIL}"),
        ("gorgias", "connected to acme"),
        ("freshdesk", "signed in as agent@acme.test"),
        ("generic", "the endpoint answered"),
    ],
)
def test_every_helpdesk_answers_the_connection_test(brand, kind, message):
    from copilot.helpdesks.services import helpdesk_connection_check
    from tests.copilot.test_writeback import CREDENTIALS, FAKES

    with FAKES[kind]() as fake:
        connection = HelpdeskConnection.objects.create(
            brand=brand, kind=kind, base_url=fake.url, credentials=CREDENTIALS[kind]
        )
        checked = helpdesk_connection_check(connection=connection)

    assert (checked.last_check_ok, checked.last_check_message) == (True, message)
