"""Celery tasks of the audit app: ids in, one service call, safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.core.cache import cache

from audit import services


@shared_task(name="audit.rollup_refresh", ignore_result=True)
def rollup_refresh_task(brand_id: int, day: str) -> None:
    """Recompute the rollup of brand `brand_id` for the UTC day `day` (ISO date).

    The pending mark is cleared first: a trace committed from here on queues a new refresh,
    one committed before is read by this one."""
    cache.delete(services.rollup_pending_key(brand_id, day))
    services.rollup_refresh(brand_id=brand_id, day=dt.date.fromisoformat(day))


@shared_task(name="audit.rollup_refresh_recent", ignore_result=True)
def rollup_refresh_recent_task() -> None:
    """Catch up the rollup with recent decisions, reviews and traces (run by beat)."""
    services.rollup_refresh_recent()
