"""Celery tasks: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from copilot import services


@shared_task(name="copilot.draft_generate", ignore_result=True)
def draft_generate_task(draft_id: int) -> None:
    """Generate draft `draft_id`; does nothing when it is already done."""
    services.draft_generate(draft_id=draft_id)
