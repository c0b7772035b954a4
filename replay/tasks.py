"""Celery tasks of the replay app: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from replay import services


@shared_task(name="replay.chunk", ignore_result=True)
def replay_chunk_task(run_id: int, item_ids: list[int]) -> None:
    """Replay one chunk of a run; items already done are skipped."""
    services.replay_chunk_run(run_id=run_id, item_ids=item_ids)
