from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders import services
from orders.forms import CarrierSourceForm, OrderSourceForm
from orders.models import CarrierSource, DemoOrder, DemoShipment, OrderSource


@admin.register(OrderSource)
class OrderSourceAdmin(admin.ModelAdmin):
    """The credential is write-only here too: the form has no field that renders it."""

    form = OrderSourceForm
    fields = ["brand", "kind", "shop_url", "secret", "timeout_seconds", "allowed_fields"]
    list_display = ["brand", "kind", "shop_url", "timeout_seconds"]
    list_filter = ["kind"]

    def save_model(self, request: HttpRequest, obj: OrderSource, form: Any, change: bool) -> None:
        services.order_source_update(source=obj, **form.settings())


@admin.register(CarrierSource)
class CarrierSourceAdmin(admin.ModelAdmin):
    """The API key is write-only here too: the form has no field that renders it."""

    form = CarrierSourceForm
    fields = ["brand", "kind", "secret", "api_url", "timeout_seconds"]
    list_display = ["brand", "kind", "timeout_seconds"]
    list_filter = ["kind"]

    def save_model(self, request: HttpRequest, obj: CarrierSource, form: Any, change: bool) -> None:
        services.carrier_source_update(source=obj, **form.settings())


class DemoShipmentInline(admin.TabularInline):
    model = DemoShipment
    extra = 0


@admin.register(DemoOrder)
class DemoOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "brand", "status", "created_at"]
    list_filter = ["brand", "status"]
    search_fields = ["number"]
    raw_id_fields = ["customer"]
    inlines = [DemoShipmentInline]
