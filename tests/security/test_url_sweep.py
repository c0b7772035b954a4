"""Every URL pattern, with every foreign object id, for every role and for anonymous users:
nobody of brand A reaches brand B's data (404, or a redirect to log in), nothing is a 500,
nothing of brand B is changed.

The URLs come from the resolver, the ids from every model tied to brand B: a view or a
model added later is swept without touching this file.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from copilot.models import Draft, Role
from tests.security.conftest import MARKERS
from tests.security.urls import brand_rows, endpoints, fillings

pytestmark = pytest.mark.postgres

# Pages anyone may see: logging in and out.
PUBLIC = {"login", "logout", "admin:login", "admin:logout"}
# A POST body that would pass every form of the app, so only access control can stop it.
POST_DATA = {"version": "1", "text": "changed", "reason": "changed"}


def _login_urls() -> tuple[str, ...]:
    return (resolve_url(settings.LOGIN_URL), reverse("admin:login"))


def _leaks(response) -> list[str]:
    body = response.content.decode(errors="replace")
    return [marker for marker in MARKERS if marker.lower() in body.lower()]


def _requests(endpoint, rows, slug):
    for values in fillings(endpoint, rows, slug):
        url = endpoint.url(values)
        yield "get", url
        yield "post", url


def _check(client: Client, method: str, url: str, *, scoped: bool, anonymous: bool) -> str:
    """Why `url` answered wrongly, or '' when it answered as it must."""
    response = getattr(client, method)(url, POST_DATA if method == "post" else None)
    status = response.status_code
    if status >= 500:
        return f"{status} server error"
    if _leaks(response):
        return f"{status} shows brand B's data: {_leaks(response)}"
    if status in (301, 302, 303, 307, 308):
        if not response.url.split("?")[0].endswith(_login_urls()) and (scoped or anonymous):
            return f"{status} redirects to {response.url}, not to a login page"
        return ""
    if 200 <= status < 300 and (scoped or anonymous):
        return f"{status} answered"
    return ""


def test_every_url_with_brand_b_ids_is_closed_to_every_role_of_brand_a(worlds, member):
    own, foreign = worlds
    rows = brand_rows(foreign.brand)
    assert {"ticket", "draft", "trace", "customer", "demoorder"} <= set(rows)
    before = {name: sorted(pks) for name, pks in brand_rows(foreign.brand).items()}
    foreign_draft = Draft.objects.get(pk=foreign.draft.pk)

    users = {role: member(own.brand, role) for role in (Role.AGENT, Role.LEAD, Role.ADMIN)}
    clients = {role: client for role, (client, _) in users.items()}
    clients["anonymous"] = Client()
    failures, swept = [], 0
    for endpoint in endpoints():
        scoped = bool(endpoint.parameters)
        for method, url in _requests(endpoint, rows, foreign.brand.slug):
            for role, client in clients.items():
                anonymous = role == "anonymous" and endpoint.name not in PUBLIC
                problem = _check(client, method, url, scoped=scoped, anonymous=anonymous)
                swept += 1
                if role in users and "_auth_user_id" not in client.session:
                    client.force_login(users[role][1])  # it just POSTed to a logout URL
                if problem:
                    failures.append(f"{role} {method.upper()} {url} ({endpoint.name}): {problem}")

    assert not failures, "\n".join(failures)
    assert swept > 500
    # Nothing of brand B was created, deleted or decided by all those requests.
    assert {name: sorted(pks) for name, pks in brand_rows(foreign.brand).items()} == before
    after = Draft.objects.get(pk=foreign.draft.pk)
    assert (after.decision, after.version, after.body) == (
        foreign_draft.decision,
        foreign_draft.version,
        foreign_draft.body,
    )


def test_the_same_sweep_with_own_ids_opens_the_pages_so_the_404s_mean_scoping(worlds, member):
    """Guards the sweep itself: the scoped pages that answer 404 with brand B's ids answer 200
    with brand A's, so the 404s come from the brand check, not from broken URLs."""
    own, foreign = worlds
    client, _ = member(own.brand, Role.ADMIN)
    own_rows, foreign_rows = brand_rows(own.brand), brand_rows(foreign.brand)
    opened = []
    for endpoint in endpoints():
        if not endpoint.parameters or endpoint.name.startswith("admin:"):
            continue
        own_fill = fillings(endpoint, own_rows, own.brand.slug)
        foreign_fill = fillings(endpoint, foreign_rows, foreign.brand.slug)
        for own_values, foreign_values in zip(own_fill, foreign_fill, strict=False):
            if client.get(endpoint.url(own_values)).status_code == 200:
                assert client.get(endpoint.url(foreign_values)).status_code == 404, endpoint.name
                opened.append(endpoint.name)
    assert {"inbox", "ticket", "draft_panel", "trace"} <= set(opened)
