from django.contrib import admin

from audit.models import AuditPolicy, Review, Span, Trace


class SpanInline(admin.TabularInline):
    model = Span
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Span._meta.fields]

    def has_add_permission(self, request, obj=None):  # traces are append-only
        return False


@admin.register(Trace)
class TraceAdmin(admin.ModelAdmin):
    list_display = ["id", "brand", "outcome", "provider", "tool_calls_count", "created_at"]
    list_filter = ["brand", "outcome", "provider"]
    inlines = [SpanInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Trace._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):  # view only: traces never change
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditPolicy)
class AuditPolicyAdmin(admin.ModelAdmin):
    list_display = ["brand", "amount_threshold", "hold_sensitive_drafts"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["trace", "verdict", "reviewer", "created_at"]
    list_filter = ["verdict"]
    readonly_fields = ["trace", "reviewer", "verdict", "note", "created_at"]

    def has_add_permission(self, request):  # reviews are written from the trace page
        return False
