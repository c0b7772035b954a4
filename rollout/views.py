"""The rollout page: leads read it, admins steer it; agents do not see it (404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from copilot.access import access_brand
from copilot.htmx import AuthenticatedHttpRequest
from copilot.models import Membership, Role
from rollout import selectors, services
from rollout.exceptions import RolloutError
from rollout.flags import TOOL_FLAGS
from rollout.forms import ExperimentForm, StageForm
from rollout.models import Stage


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {
        "brand": membership.brand,
        "membership": membership,
        "can_change": membership.has_role(Role.ADMIN),
        "stages": Stage.choices,
        **extra,
    }


@login_required
@require_GET
def rollout_page(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    membership = access_brand(request.user, slug, role=Role.LEAD)
    tool = request.GET.get("tool", "")
    if request.htmx and tool in TOOL_FLAGS:
        # The live split polls itself; only its region is rendered.
        card = selectors.tool_rollout(membership.brand, tool, with_history=False)
        return render(request, "rollout/page.html#split", _context(membership, card=card))
    return render(
        request,
        "rollout/page.html",
        _context(
            membership,
            cards=selectors.rollout_overview(membership.brand),
            kill_switch=selectors.kill_switch_on(),
        ),
    )


def _apply(request: AuthenticatedHttpRequest, membership: Membership, tool: str, kind: str) -> str:
    """Validate the posted form and call its service; the error to show, or ""."""
    brand, user = membership.brand, request.user
    if kind == "stage":
        stage_form = StageForm(request.POST)
        if not stage_form.is_valid():
            return " ".join(str(e) for errors in stage_form.errors.values() for e in errors)
        data = stage_form.cleaned_data
        services.rollout_set_stage(
            brand=brand,
            tool=tool,
            stage=data["stage"],
            percent=data["percent"],
            user=user,
            reason=data["reason"],
        )
        return ""
    form = ExperimentForm(request.POST)
    if not form.is_valid():
        return " ".join(str(e) for errors in form.errors.values() for e in errors)
    data = form.cleaned_data
    if data["action"] == "start":
        services.rollout_experiment_start(
            brand=brand, tool=tool, name=data["name"], user=user, reason=data["reason"]
        )
    else:
        services.rollout_experiment_stop(brand=brand, tool=tool, user=user, reason=data["reason"])
    return ""


@login_required
@require_POST
def rollout_change(
    request: AuthenticatedHttpRequest, slug: str, tool: str, kind: str
) -> HttpResponse:
    membership = access_brand(request.user, slug, role=Role.LEAD)
    if tool not in TOOL_FLAGS:
        raise Http404("No such tool.")
    if not membership.has_role(Role.ADMIN):
        raise PermissionDenied("Only the brand's admins can change its rollout.")
    try:
        error = _apply(request, membership, tool, kind)
    except RolloutError as exc:
        error = exc.message
    if request.htmx:
        # htmx does not swap 4xx answers by default, so a refused change comes back as 200
        # with the message in the card; without htmx the status says it.
        card = selectors.tool_rollout(membership.brand, tool)
        return render(
            request,
            "rollout/page.html#tool-card",
            _context(membership, card=card, error=error, error_tool=tool),
        )
    if error:
        return render(
            request,
            "rollout/page.html",
            _context(
                membership,
                cards=selectors.rollout_overview(membership.brand),
                kill_switch=selectors.kill_switch_on(),
                error=error,
                error_tool=tool,
            ),
            status=400,
        )
    messages.success(request, "Rollout changed.")
    return redirect("rollout:page", slug=membership.brand.slug)
