"""Helpdesk webhook endpoints: machine-to-machine, authenticated by the body's signature."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from copilot.helpdesks.base import PayloadTooLarge, WebhookRejected
from copilot.ingest import declared_length, webhook_receive


@csrf_exempt  # signed by the helpdesk (HMAC over the body), not a browser session
@require_POST
def helpdesk_webhook(request: HttpRequest, kind: str, slug: str) -> JsonResponse:
    """202 once the event and its ticket are stored; a 4xx with a code and a message otherwise."""
    try:
        PayloadTooLarge.check(declared_length(request))  # before the body is read
        result = webhook_receive(
            kind=kind, brand_slug=slug, headers=request.headers, body=request.body
        )
    except WebhookRejected as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status)
    return JsonResponse(
        {
            "ticket_id": result.ticket.pk,
            "draft_id": result.draft.pk,
            "created": result.created,
        },
        status=202,
    )
