from django.contrib import admin

from copilot.models import Brand, Customer, Draft, Membership, Ticket


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "reply_language"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    exclude = ["api_token_digest"]
    inlines = [MembershipInline]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "brand", "email_verified"]
    list_filter = ["brand", "email_verified"]
    search_fields = ["external_id", "email", "name"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "brand", "subject", "status", "created_at"]
    list_filter = ["brand", "status"]
    search_fields = ["external_id", "subject"]
    raw_id_fields = ["customer"]


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "status", "decision", "created_at"]
    list_filter = ["status", "decision"]
    raw_id_fields = ["ticket", "decided_by"]
