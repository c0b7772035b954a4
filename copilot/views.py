"""Thin views: parse, call one service or selector, render a page or one of its partials."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from audit.exceptions import DraftHeld
from copilot import access, progress, selectors, services
from copilot.exceptions import CopilotError, DraftConflict
from copilot.forms import DraftDecisionForm
from copilot.htmx import AuthenticatedHttpRequest, HtmxHttpRequest
from copilot.ingest import brand_for_token, parse_ticket_payload
from copilot.models import Draft


@login_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = list(access.memberships_for(request.user))
    if len(memberships) == 1:
        return redirect("inbox", slug=memberships[0].brand.slug)
    return render(request, "copilot/home.html", {"memberships": memberships})


POLL_FASTEST_SECONDS = 2
POLL_SLOWEST_SECONDS = 60


def _poll_seconds(request: HtmxHttpRequest, stamp: str, any_open: bool) -> int:
    """The next inbox poll interval: fast while drafts are being written or something just
    changed, doubling (up to a minute) while polls keep finding the same page."""
    previous = request.GET.get("poll", "")
    if any_open or not previous.isdigit() or request.GET.get("stamp") != stamp:
        return POLL_FASTEST_SECONDS
    return min(max(int(previous), POLL_FASTEST_SECONDS) * 2, POLL_SLOWEST_SECONDS)


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    membership = access.access_brand(request.user, slug)
    filters = selectors.InboxFilters.from_query(request.GET)
    page = selectors.inbox_for_brand(membership.brand, filters)
    poll_seconds = _poll_seconds(request, page.stamp, page.any_open)
    context = {
        "membership": membership,
        "brand": membership.brand,
        "page": page,
        "filters": filters,
        "status_tabs": [
            (value, label, page.counts[value], value == filters.status)
            for value, label in selectors.STATUS_FILTERS.items()
        ],
        # Only the first page polls: new tickets land on top.
        "poll_seconds": poll_seconds if filters.before is None else None,
        "poll_query": filters.query(poll=poll_seconds, stamp=page.stamp),
        "older_query": filters.query(before=page.next_before),
        "memberships": access.memberships_for(request.user),
    }
    template = "copilot/inbox.html"
    if request.htmx and request.htmx.target == "inbox-rows":
        template += "#inbox-rows"
    return render(request, template, context)


def _progress_context(draft: Draft | None) -> dict[str, Any]:
    """The live steps of a draft being written (nothing once it is done)."""
    steps = progress.progress_steps(draft_id=draft.pk) if draft and draft.is_open else []
    return {"steps": steps, "next_step": progress.next_step(steps)}


@login_required
@require_GET
def ticket_detail(request: AuthenticatedHttpRequest, ticket_id: int) -> HttpResponse:
    ticket = access.access_ticket(request.user, ticket_id)
    workspace = selectors.ticket_workspace(ticket)
    return _render_workspace(request, workspace)


def _render_workspace(
    request: HtmxHttpRequest,
    workspace: selectors.Workspace,
    *,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "ws": workspace,
        "ticket": workspace.ticket,
        "draft": workspace.draft,
        "trace": workspace.trace,
        **_progress_context(workspace.draft),
        **(extra or {}),
    }
    return render(request, "copilot/ticket.html", context, status=status)


def _draft_panel(
    request: HtmxHttpRequest,
    draft: Draft,
    *,
    error: str = "",
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "copilot/ticket.html#draft-panel",
        {
            "ticket": draft.ticket,
            "draft": draft,
            "trace": selectors.trace_for_draft(draft),
            **_progress_context(draft),
            "error": error,
            **(extra or {}),
        },
        status=status,
    )


@login_required
@require_GET
def draft_panel(request: AuthenticatedHttpRequest, draft_id: int) -> HttpResponse:
    return _draft_panel(request, access.access_draft(request.user, draft_id))


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
def draft_decide(request: AuthenticatedHttpRequest, draft_id: int, action: str) -> HttpResponse:
    """Store the agent's decision. A stale version answers 409 with both versions side by
    side: theirs as stored and the agent's own as submitted, still editable."""
    draft = access.access_draft(request.user, draft_id)
    form = DraftDecisionForm(request.POST, action=action)
    error, status, extra = "", 200, {}
    if not form.is_valid():
        error = " ".join(
            str(message) for messages_ in form.errors.values() for message in messages_
        )
        error, status = error or "The form was incomplete; reload the page and try again.", 400
    else:
        try:
            _DECISIONS[action](draft, request.user, form.cleaned_data)
        except DraftConflict as exc:
            error, status = exc.message, exc.status
            extra = {
                "conflict": {
                    "theirs": exc.current,
                    "action": action,
                    "text": draft.body if action == "accept" else form.cleaned_data["text"],
                    "reason": form.cleaned_data["reason"],
                }
            }
        except (CopilotError, DraftHeld) as exc:
            error, status = exc.message, exc.status
    if request.htmx:
        return _draft_panel(request, draft, error=error, extra=extra, status=status)
    if extra:
        # Without JS the page itself must carry the agent's text, so no redirect here.
        workspace = selectors.ticket_workspace(draft.ticket)
        return _render_workspace(request, workspace, extra={**extra, "error": error}, status=status)
    if error:
        messages.error(request, error)
    return redirect("ticket", ticket_id=draft.ticket_id)


@login_required
@require_POST
def ticket_regenerate(request: AuthenticatedHttpRequest, ticket_id: int) -> HttpResponse:
    ticket = access.access_ticket(request.user, ticket_id)
    services.draft_regenerate(ticket=ticket)
    url = reverse("ticket", kwargs={"ticket_id": ticket.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@csrf_exempt  # machine-to-machine: authenticated by the brand's bearer token, not a session
@require_POST
def api_ticket_create(request: HttpRequest) -> JsonResponse:
    try:
        brand = brand_for_token(request)
        fields = parse_ticket_payload(request)
    except CopilotError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status)
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
