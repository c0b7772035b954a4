from django.contrib import admin
from django.http import HttpRequest
from waffle.admin import FlagAdmin, SwitchAdmin
from waffle.models import Switch

from rollout.models import BrandFlag, BrandRollout, RolloutChange

# waffle's own admin registers its default Flag model, which BrandFlag replaces
# (WAFFLE_ENABLE_ADMIN_PAGES is off), so the flag and switch pages are registered here.


@admin.register(BrandFlag)
class BrandFlagAdmin(FlagAdmin):
    filter_horizontal = ["brands"]


admin.site.register(Switch, SwitchAdmin)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rollouts change on the rollout page, which logs who and why; here they are read."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(BrandRollout)
class BrandRolloutAdmin(_ReadOnlyAdmin):
    list_display = ["flag", "brand", "stage", "percent", "experiment", "started_at", "stopped_at"]
    list_filter = ["stage", "flag"]


@admin.register(RolloutChange)
class RolloutChangeAdmin(_ReadOnlyAdmin):
    list_display = ["changed_at", "rollout", "kind", "from_value", "to_value", "changed_by"]
    list_filter = ["kind"]
    search_fields = ["reason"]
