from __future__ import annotations

from django.apps import AppConfig


class ReplayAppConfig(AppConfig):
    name = "replay"
    verbose_name = "Replay"
    default_auto_field = "django.db.models.BigAutoField"
