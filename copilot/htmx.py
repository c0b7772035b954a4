"""The request types of views that answer htmx as well as full page loads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HtmxHttpRequest(HttpRequest):
    """A request that went through `HtmxMiddleware`, so `request.htmx` is set."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """The request a `@login_required` view receives: the decorator has already turned
    anonymous visitors away, so `request.user` is a signed-in `User`, never
    `AnonymousUser`. Annotating only; nothing is checked at runtime."""

    user: User
