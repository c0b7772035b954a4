"""The Celery application: tasks are discovered in each app's `tasks.py`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")

app = Celery("copilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def has_workers() -> bool:
    """Whether tasks go to Celery workers through a broker. Without one (embedded mode)
    Celery runs each task in the caller, at once, so long or repeated work is done on a
    later request instead: the replay advances on each poll, the metrics catch up on read."""
    return not app.conf.task_always_eager
