"""Thin views: parse, call one service or selector, render a page or one of its partials."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from copilot import selectors, services
from copilot.exceptions import CopilotError
from copilot.forms import DraftDecisionForm
from copilot.ingest import brand_for_token, parse_ticket_payload


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    memberships = list(selectors.memberships_for(request.user))
    if len(memberships) == 1:
        return redirect("inbox", slug=memberships[0].brand.slug)
    return render(request, "copilot/home.html", {"memberships": memberships})


@login_required
@require_GET
def inbox(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    membership = selectors.access_brand(request.user, slug)
    before = request.GET.get("before")
    tickets = selectors.inbox_for_brand(
        membership.brand, before_id=int(before) if before and before.isdigit() else None
    )
    context = {
        "membership": membership,
        "brand": membership.brand,
        "tickets": tickets,
        "has_more": len(tickets) == selectors.INBOX_PAGE_SIZE,
        "any_open": any(t.draft_status in ("pending", "generating") for t in tickets),
        "memberships": selectors.memberships_for(request.user),
    }
    template = "copilot/inbox.html"
    if request.htmx and request.htmx.target == "inbox-rows":
        template += "#inbox-rows"
    return render(request, template, context)


@login_required
@require_GET
def ticket_detail(request: HtmxHttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.access_ticket(request.user, ticket_id)
    workspace = selectors.ticket_workspace(ticket)
    return render(
        request,
        "copilot/ticket.html",
        {"ws": workspace, "ticket": ticket, "draft": workspace.draft, "trace": workspace.trace},
    )


def _draft_panel(
    request: HtmxHttpRequest, draft_id: int, *, error: str = "", status: int = 200
) -> HttpResponse:
    draft = selectors.access_draft(request.user, draft_id)
    return render(
        request,
        "copilot/ticket.html#draft-panel",
        {
            "ticket": draft.ticket,
            "draft": draft,
            "trace": selectors.trace_for_draft(draft),
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def draft_panel(request: HtmxHttpRequest, draft_id: int) -> HttpResponse:
    return _draft_panel(request, draft_id)


_DECISIONS = {
    "accept": lambda draft, user, data: services.draft_accept(
        draft=draft, user=user, expected_version=data["version"]
    ),
    "edit": lambda draft, user, data: services.draft_edit(
        draft=draft, user=user, expected_version=data["version"], text=data["text"]
    ),
    "reject": lambda draft, user, data: services.draft_reject(
        draft=draft, user=user, expected_version=data["version"], reason=data["reason"]
    ),
}


@login_required
@require_POST
def draft_decide(request: HtmxHttpRequest, draft_id: int, action: str) -> HttpResponse:
    draft = selectors.access_draft(request.user, draft_id)
    form = DraftDecisionForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = "The form was incomplete; reload the page and try again.", 400
    else:
        try:
            _DECISIONS[action](draft, request.user, form.cleaned_data)
        except CopilotError as exc:
            error, status = exc.message, exc.status
    if request.htmx:
        return _draft_panel(request, draft_id, error=error, status=status)
    if error:
        messages.error(request, error)
    return redirect("ticket", ticket_id=draft.ticket_id)


@login_required
@require_POST
def ticket_regenerate(request: HtmxHttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.access_ticket(request.user, ticket_id)
    services.draft_regenerate(ticket=ticket)
    url = reverse("ticket", kwargs={"ticket_id": ticket.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def trace_detail(request: HtmxHttpRequest, trace_id: int) -> HttpResponse:
    trace = selectors.access_trace(request.user, trace_id)
    return render(request, "audit/trace.html", {"trace": trace, "ticket": trace.ticket})


@csrf_exempt  # machine-to-machine: authenticated by the brand's bearer token, not a session
@require_POST
def api_ticket_create(request: HttpRequest) -> JsonResponse:
    try:
        brand = brand_for_token(request)
        fields = parse_ticket_payload(request)
    except CopilotError as exc:
        body: dict[str, object] = {"code": exc.code, "message": exc.message}
        if getattr(exc, "fields", None):
            body["fields"] = exc.fields  # type: ignore[attr-defined]
        return JsonResponse({"error": body}, status=exc.status)
    result = services.ticket_ingest(brand=brand, **fields)
    return JsonResponse(
        {
            "ticket_id": result.ticket.pk,
            "draft_id": result.draft.pk,
            "draft_status": result.draft.status,
            "created": result.created,
        },
        status=202,
    )
