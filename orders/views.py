"""The order-source settings page for a brand's admins: where orders are read, and where
their parcels are tracked."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from copilot.access import access_brand
from copilot.htmx import AuthenticatedHttpRequest
from copilot.models import Brand, Role
from orders import selectors, services
from orders.forms import CarrierSourceForm, OrderSourceForm
from orders.models import CarrierSource, OrderSource

TEMPLATE = "orders/source_settings.html"
CARRIER_PREFIX = "carrier"


def _carrier_form(
    brand: Brand, source: OrderSource, data: Any = None
) -> tuple[CarrierSource, CarrierSourceForm]:
    carrier = selectors.carrier_source_of(brand, order_kind=source.kind)
    form = CarrierSourceForm(data, instance=carrier, prefix=CARRIER_PREFIX, order_kind=source.kind)
    return carrier, form


def _page(request: AuthenticatedHttpRequest, brand: Brand, **context: Any) -> HttpResponse:
    """The whole page; `context` overrides either form (bound, with errors) or a check."""
    source = context.pop("source", None) or selectors.order_source_for(brand)
    if "form" not in context:
        context["form"] = OrderSourceForm(instance=source)
    if "carrier_form" not in context:
        context["carrier"], context["carrier_form"] = _carrier_form(brand, source)
    bound = (context["form"], context["carrier_form"])
    return render(
        request,
        TEMPLATE,
        {"brand": brand, "source": source, "check": None, "carrier_check": None, **context},
        status=400 if any(f.is_bound and f.errors for f in bound) else 200,
    )


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
    return _page(request, membership.brand, source=source, form=form)


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
    if request.htmx:
        return render(
            request,
            TEMPLATE + "#connection-result",
            {"brand": membership.brand, "check": check, "tested": True},
        )
    return _page(request, membership.brand, source=source, form=form, check=check, tested=True)


@login_required
@require_POST
def carrier_settings(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Save the carrier source; its form on the same page, with its own prefix."""
    membership = access_brand(request.user, slug, role=Role.ADMIN)
    source = selectors.order_source_for(membership.brand)
    carrier, form = _carrier_form(membership.brand, source, request.POST)
    if form.is_valid():
        services.carrier_source_update(source=carrier, **form.settings())
        messages.success(request, "Carrier tracking saved.")
        return redirect("order_source_settings", slug=slug)
    return _page(request, membership.brand, source=source, carrier=carrier, carrier_form=form)


@login_required
@require_POST
def carrier_test(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Check the carrier form's (unsaved) settings against the real service; nothing is
    stored."""
    membership = access_brand(request.user, slug, role=Role.ADMIN)
    source = selectors.order_source_for(membership.brand)
    carrier, form = _carrier_form(membership.brand, source, request.POST)
    check = None
    if form.is_valid():
        unsaved = CarrierSource(pk=carrier.pk, brand=carrier.brand, credentials=carrier.credentials)
        unsaved = services.carrier_source_apply(unsaved, **form.settings())
        check = services.carrier_source_check(source=unsaved)
    if request.htmx:
        return render(
            request,
            TEMPLATE + "#carrier-result",
            {"brand": membership.brand, "carrier_check": check, "carrier_tested": True},
        )
    return _page(
        request,
        membership.brand,
        source=source,
        carrier=carrier,
        carrier_form=form,
        carrier_check=check,
        carrier_tested=True,
    )
