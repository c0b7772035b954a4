"""CSRF on every state-changing endpoint: a logged-in browser's POST without the token is
refused everywhere, except on the machine endpoints that opt out, which must then refuse
any request that is not authenticated by its own means (token, signature)."""

from __future__ import annotations

import json

import pytest
from django.middleware.csrf import get_token
from django.test import Client

from copilot.models import Role
from tests.security.urls import brand_rows, endpoints, fillings

pytestmark = pytest.mark.postgres


def _own_urls(endpoint, own):
    """The endpoint's URLs filled with the user's own brand, where the view would act."""
    if not endpoint.parameters:
        return [endpoint.url({})]
    return [endpoint.url(v) for v in fillings(endpoint, brand_rows(own.brand), own.brand.slug)]


def test_every_browser_endpoint_refuses_a_post_without_the_csrf_token(worlds, member):
    own, _ = worlds
    _, user = member(own.brand, Role.ADMIN)
    user.is_staff = user.is_superuser = True  # the admin site's forms are swept too
    user.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    checked, failures = 0, []
    for endpoint in endpoints():
        if endpoint.csrf_exempt:
            continue
        for url in _own_urls(endpoint, own):
            response = client.post(url, {"version": "1", "text": "x", "reason": "x"})
            checked += 1
            if response.status_code != 403:
                failures.append(f"POST {url} ({endpoint.name}): {response.status_code}")
    assert not failures, "\n".join(failures)
    assert checked > 50


def test_with_the_token_the_same_post_goes_through(worlds, member):
    """Guards the test above: its 403s come from the missing token, not from the view."""
    own, _ = worlds
    _, user = member(own.brand, Role.AGENT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(f"/tickets/{own.draft.ticket_id}/")
    token = get_token(page.wsgi_request)

    response = client.post(
        f"/drafts/{own.draft.pk}/accept/",
        {"version": own.draft.version, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    own.draft.refresh_from_db()
    assert own.draft.decision == "accepted"


def test_csrf_exempt_endpoints_refuse_unauthenticated_requests(worlds):
    exempt = [endpoint for endpoint in endpoints() if endpoint.csrf_exempt]
    assert "api_ticket_create" in {endpoint.name for endpoint in exempt}
    client = Client(enforce_csrf_checks=True)
    ticket = json.dumps({"external_id": "csrf-1", "body": "Where is my order?"})
    own, _ = worlds
    for endpoint in exempt:
        for url in _own_urls(endpoint, own):
            for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer forged"}):
                response = client.post(url, ticket, content_type="application/json", **headers)
                # 404: a webhook for a brand with no helpdesk connection is unknown, not refused.
                assert response.status_code in (400, 401, 403, 404), (url, headers)
