"""Celery tasks: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task

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


@shared_task(bind=True, name="copilot.reply_deliver", ignore_result=True, max_retries=None)
def reply_deliver_task(self: Task, delivery_id: int) -> None:
    """Post accepted draft text to the helpdesk; retried with backoff on transient errors only
    (the attempt limit lives on the row). In eager mode a retry waits for the sweep instead of
    blocking the agent's request."""
    from copilot.helpdesks.services import DeliveryRetry, reply_deliver

    try:
        reply_deliver(delivery_id=delivery_id)
    except DeliveryRetry as retry:
        if self.request.is_eager:
            return
        raise self.retry(countdown=retry.countdown) from None


@shared_task(name="copilot.reply_delivery_sweep", ignore_result=True)
def reply_delivery_sweep_task() -> None:
    """Re-enqueue deliveries that are due (scheduled by beat): lost enqueues, dead workers."""
    from copilot.helpdesks.services import reply_delivery_due

    for delivery_id in reply_delivery_due():
        reply_deliver_task.delay(delivery_id)


@shared_task(name="copilot.draft_sweep", ignore_result=True)
def draft_sweep_task() -> None:
    """Queue again the drafts a dead worker or a broker outage left behind (celery beat)."""
    services.draft_sweep()
