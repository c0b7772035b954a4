from django.contrib import admin
from waffle.admin import FlagAdmin, SwitchAdmin
from waffle.models import Switch

from rollout.models import BrandFlag

# waffle's own admin registers its default Flag model, which BrandFlag replaces
# (WAFFLE_ENABLE_ADMIN_PAGES is off), so the flag and switch pages are registered here.


@admin.register(BrandFlag)
class BrandFlagAdmin(FlagAdmin):
    filter_horizontal = ["brands"]


admin.site.register(Switch, SwitchAdmin)
