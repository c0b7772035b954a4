"""Security headers the pages rely on."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    """Send `settings.COPILOT_CSP` as the Content-Security-Policy of every response.

    The templates carry no inline script, style attribute or event handler, so the policy
    needs no 'unsafe-inline' or 'unsafe-eval': text that slips past escaping still cannot
    run. A response that already set its own policy keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.COPILOT_CSP
        if policy and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = policy
        return response
