"""The helpdesk settings page (brand admins) and the delivery status on the ticket workspace."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copilot import access
from copilot.helpdesks.forms import HelpdeskConnectionForm
from copilot.helpdesks.selectors import helpdesk_connection_for
from copilot.helpdesks.services import helpdesk_connection_check, helpdesk_connection_save
from copilot.htmx import AuthenticatedHttpRequest
from copilot.models import HelpdeskConnection, Membership


def _context(
    request: HttpRequest,
    membership: Membership,
    connection: HelpdeskConnection | None,
    form: HelpdeskConnectionForm,
) -> dict[str, object]:
    """The page's context; secrets appear only as the names of the stored keys."""
    webhook_url = ""
    if connection and connection.pk:
        webhook_url = request.build_absolute_uri(
            reverse("helpdesk_webhook", args=[connection.kind, membership.brand.slug])
        )
    return {
        "brand": membership.brand,
        "connection": connection if connection and connection.pk else None,
        "form": form,
        "webhook_url": webhook_url,
        "stored": sorted((connection.credentials or {}).keys()) if connection else [],
        "has_secret": bool(connection and connection.webhook_secret),
    }


@login_required
@require_http_methods(["GET", "POST"])
def helpdesk_settings(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    membership = access.access_brand(request.user, slug, role="admin")
    connection = helpdesk_connection_for(membership.brand)
    instance = connection or HelpdeskConnection(brand=membership.brand)
    form = HelpdeskConnectionForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        helpdesk_connection_save(
            connection=form.save(commit=False),
            api_user=form.cleaned_data["api_user"],
            api_secret=form.cleaned_data["api_secret"],
            secret=form.cleaned_data["secret"],
        )
        messages.success(request, "Helpdesk connection saved.")
        return redirect("helpdesk_settings", slug=slug)
    return render(
        request,
        "copilot/helpdesk.html",
        _context(request, membership, connection, form),
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def helpdesk_test(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    membership = access.access_brand(request.user, slug, role="admin")
    connection = helpdesk_connection_for(membership.brand)
    if connection is not None:
        helpdesk_connection_check(connection=connection)
    if request.htmx:
        return render(request, "copilot/helpdesk.html#check-result", {"connection": connection})
    return redirect("helpdesk_settings", slug=slug)


@login_required
@require_GET
def delivery_status(request: AuthenticatedHttpRequest, draft_id: int) -> HttpResponse:
    draft = access.access_draft(request.user, draft_id)
    return render(request, "copilot/helpdesk_delivery.html", {"draft": draft})
