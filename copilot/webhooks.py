"""Helpdesk webhook endpoints: machine-to-machine, authenticated by the body's signature."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from copilot.helpdesks.base import PayloadTooLarge, WebhookRejected
from copilot.ingest import webhook_receive


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt  # signed by the helpdesk (HMAC over the body), not a browser session
@require_POST
def helpdesk_webhook(request: HttpRequest, kind: str, slug: str) -> JsonResponse:
    """202 once the event and its ticket are stored; a 4xx with a code and a message otherwise."""
    try:
        if _declared_length(request) > settings.COPILOT_INTAKE_MAX_BYTES:
            # Refused before the body is read into memory.
            raise PayloadTooLarge(
                f"The body is larger than {settings.COPILOT_INTAKE_MAX_BYTES} bytes."
            )
        result = webhook_receive(
            kind=kind, brand_slug=slug, headers=request.headers, body=request.body
        )
    except WebhookRejected as exc:
        return JsonResponse(
            {"error": {"code": exc.code, "message": exc.message}}, status=exc.status
        )
    return JsonResponse(
        {
            "ticket_id": result.ticket.pk,
            "draft_id": result.draft.pk,
            "created": result.created,
        },
        status=202,
    )
