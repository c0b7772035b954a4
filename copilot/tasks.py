"""Celery tasks: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from copilot import services
from copilot.agent.providers.base import ProviderRateLimited, ProviderUnavailable
from orders.connectors.base import ConnectorUnavailable

# Only failures that a later attempt can cure are retried; anything else is a bug to see.
TRANSIENT_ERRORS = (ProviderRateLimited, ProviderUnavailable, ConnectorUnavailable)


@shared_task(
    name="copilot.draft_generate",
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
)
def draft_generate_task(draft_id: int) -> None:
    """Generate draft `draft_id`; does nothing when it is already done."""
    services.draft_generate(draft_id=draft_id)


@shared_task(name="copilot.draft_sweep", ignore_result=True)
def draft_sweep_task() -> None:
    """Queue again the drafts a dead worker or a broker outage left behind (celery beat)."""
    services.draft_sweep()
