"""Settings an app owns, in the style of django-waffle's `get_setting` and `defaults.py`.

Each app keeps its settings and their defaults in its own `defaults.py` (plain constants,
named as in Django's settings and the environment: `ORDERS_HTTP_MAX_RETRIES`). A project
sets one in its settings module, or `copilot.settings` takes it from the environment
variable of the same name; otherwise the app's default applies. Read at call time, never
at import, so a test that overrides a setting is seen at once.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.conf import settings

from copilot import defaults


def setting_names(defaults: ModuleType) -> list[str]:
    """The settings a defaults module declares: its upper-case names."""
    return [name for name in vars(defaults) if name.isupper()]


class AppSettings:
    """One app's settings: `conf.ORDERS_HTTP_MAX_RETRIES` is Django's setting when the
    project sets it, else the app's default. An unknown name is an AttributeError."""

    def __init__(self, defaults: ModuleType) -> None:
        self._defaults = defaults

    def __getattr__(self, name: str) -> Any:
        if not name.isupper() or not hasattr(self._defaults, name):
            raise AttributeError(f"{name} is not a setting of {self._defaults.__name__}")
        return getattr(settings, name, getattr(self._defaults, name))


conf = AppSettings(defaults)  # the copilot app's own
