from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = "Rollout"

    def ready(self) -> None:
        from rollout import signals  # noqa: F401  (connects the cache flush)
