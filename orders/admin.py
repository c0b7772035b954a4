from django.contrib import admin

from orders.models import DemoOrder, DemoShipment, OrderSource


@admin.register(OrderSource)
class OrderSourceAdmin(admin.ModelAdmin):
    list_display = ["brand", "kind", "shop_url", "timeout_seconds"]
    list_filter = ["kind"]


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
