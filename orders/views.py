"""The order-source settings page for a brand's admins."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from copilot.access import access_brand
from copilot.htmx import AuthenticatedHttpRequest
from copilot.models import Role
from orders import selectors, services
from orders.forms import OrderSourceForm
from orders.models import OrderSource


@login_required
@require_http_methods(["GET", "POST"])
def source_settings(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    membership = access_brand(request.user, slug, role=Role.ADMIN)
    source = selectors.order_source_for(membership.brand)
    form = OrderSourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        services.order_source_update(source=source, **form.settings())
        messages.success(request, "Order source saved.")
        return redirect("order_source_settings", slug=slug)
    return render(
        request,
        "orders/source_settings.html",
        {"brand": membership.brand, "form": form, "source": source, "check": None},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def source_test(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Check the form's (unsaved) settings against the real system; nothing is stored."""
    membership = access_brand(request.user, slug, role=Role.ADMIN)
    source = selectors.order_source_for(membership.brand)
    form = OrderSourceForm(request.POST, instance=source)
    check = None
    if form.is_valid():
        unsaved = OrderSource(pk=source.pk, brand=source.brand, credentials=source.credentials)
        unsaved = services.order_source_apply(unsaved, **form.settings())
        check = services.order_source_check(source=unsaved)
    template = "orders/source_settings.html"
    if request.htmx:
        template += "#connection-result"
    return render(
        request,
        template,
        {"brand": membership.brand, "form": form, "source": source, "check": check, "tested": True},
    )
