from __future__ import annotations

from django.contrib import admin

from replay.models import ReplayConfiguration, ReplayRun


@admin.register(ReplayConfiguration)
class ReplayConfigurationAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "brand", "provider", "model", "created_at")
    list_filter = ("brand", "provider")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a change is a new version, saved from the replay page


@admin.register(ReplayRun)
class ReplayRunAdmin(admin.ModelAdmin):
    list_display = ("id", "brand", "config_a", "config_b", "status", "done", "total", "created_at")
    list_filter = ("brand", "status")
    readonly_fields = [f.name for f in ReplayRun._meta.fields]
