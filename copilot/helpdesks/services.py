"""Write-back: an accepted draft becomes one outbox row, posted to the helpdesk exactly once.

How "exactly once" holds when a worker dies between the helpdesk's answer and our commit
(or the broker's ack): every attempt first claims the row (status `sending`, `attempts` + 1,
a lease) in its own committed transaction. An attempt that finds `attempts > 0` knows an
earlier one may have reached the helpdesk, so before posting it reads the ticket back and
looks for the reply: by its key where the helpdesk stores one (Gorgias `external_id`, the
generic format's `Idempotency-Key`), else by its exact text. Found: the row is marked sent
(`reconciled`) without posting again. Zendesk and Freshdesk take no idempotency key on these
endpoints, which is why the check reads the remote instead of trusting a header.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from copilot.conf import conf
from copilot.helpdesks import VENDORS
from copilot.helpdesks.base import HelpdeskClient, HelpdeskError, same_text
from copilot.models import Draft, HelpdeskConnection, ReplyDelivery

logger = logging.getLogger(__name__)


class DeliveryRetry(Exception):
    """The attempt should be repeated in `countdown` seconds (a transient failure, or another
    attempt holds the lease)."""

    def __init__(self, countdown: float) -> None:
        super().__init__(f"retry in {countdown:.0f} s")
        self.countdown = countdown


def helpdesk_client(connection: HelpdeskConnection) -> HelpdeskClient:
    """The vendor client of `connection`, with its decrypted credentials and timeout."""
    return VENDORS[connection.kind].make_client(
        base_url=connection.base_url,
        credentials=connection.credentials or {},
        timeout=connection.timeout_seconds,
    )


def reply_delivery_create(*, draft: Draft, text: str) -> ReplyDelivery | None:
    """Queue `text` (the accepted draft's final text) for the ticket's helpdesk and enqueue its
    delivery once the caller's transaction commits.

    Returns None when the brand has no enabled helpdesk or the ticket did not come from it.
    One row per draft: a second call returns the first row and enqueues nothing.
    """
    from copilot.tasks import reply_deliver_task

    connection = HelpdeskConnection.objects.filter(
        brand_id=draft.ticket.brand_id, enabled=True
    ).first()
    remote_ticket_id = connection.remote_ticket_id(draft.ticket) if connection else None
    if connection is None or remote_ticket_id is None:
        return None
    delivery, created = ReplyDelivery.objects.get_or_create(
        draft=draft,
        defaults={
            "connection": connection,
            "key": f"copilot-{draft.pk}-{uuid.uuid4().hex[:16]}",
            "remote_ticket_id": remote_ticket_id,
            "public": connection.reply_mode == HelpdeskConnection.ReplyMode.PUBLIC,
            "text": text,
        },
    )
    if created:
        transaction.on_commit(lambda: reply_deliver_task.delay(delivery.pk))
        logger.info("helpdesks.delivery.queued", extra={"delivery": delivery.pk})
    return delivery


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: doubling, capped."""
    base = conf.COPILOT_HELPDESK_RETRY_BASE_SECONDS
    return float(min(base * 2 ** max(attempts - 1, 0), conf.COPILOT_HELPDESK_RETRY_MAX_SECONDS))


def _claim(delivery_id: int) -> ReplyDelivery | None:
    """Lock the row and mark an attempt as started; None when there is nothing to do."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            ReplyDelivery.objects.select_for_update()
            .select_related("connection")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or not delivery.is_open:
            return None
        lease = delivery.lease_until  # set whenever a row is marked sending
        if delivery.status == ReplyDelivery.Status.SENDING and lease is not None and lease > now:
            # Another attempt is in flight; if its worker died, the lease runs out first.
            raise DeliveryRetry((lease - now).total_seconds() + 1)
        delivery.status = ReplyDelivery.Status.SENDING
        delivery.attempts += 1
        delivery.lease_until = now + dt.timedelta(seconds=conf.COPILOT_HELPDESK_LEASE_SECONDS)
        delivery.save(update_fields=["status", "attempts", "lease_until", "updated_at"])
    return delivery


def _already_posted(client: HelpdeskClient, delivery: ReplyDelivery) -> str | None:
    for reply in client.replies(ticket_id=delivery.remote_ticket_id):
        if reply.key == delivery.key or (not reply.key and same_text(reply.text, delivery.text)):
            return reply.remote_id
    return None


def _finish(delivery: ReplyDelivery, **fields: object) -> None:
    for name, value in fields.items():
        setattr(delivery, name, value)
    delivery.lease_until = None
    delivery.save(update_fields=[*fields, "lease_until", "updated_at"])


def reply_deliver(*, delivery_id: int) -> ReplyDelivery | None:
    """Post the delivery's text to its helpdesk, at most once; safe to call again at any time.

    Raises DeliveryRetry after a transient failure (stored on the row as `retrying` with its
    next time); a permanent failure or the last allowed attempt is stored as `failed`.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    try:
        with helpdesk_client(delivery.connection) as client:
            remote_id = _already_posted(client, delivery) if delivery.attempts > 1 else None
            reconciled = remote_id is not None
            if remote_id is None:
                remote_id = client.post(
                    ticket_id=delivery.remote_ticket_id,
                    text=delivery.text,
                    public=delivery.public,
                    key=delivery.key,
                )
    except HelpdeskError as error:
        return _record_failure(delivery, error)
    _finish(
        delivery,
        status=ReplyDelivery.Status.SENT,
        remote_id=remote_id[:60],
        reconciled=reconciled,
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error_code="",
        last_error="",
    )
    logger.info(
        "helpdesks.delivery.sent",
        extra={"delivery": delivery.pk, "attempts": delivery.attempts, "reconciled": reconciled},
    )
    return delivery


def _record_failure(delivery: ReplyDelivery, error: HelpdeskError) -> ReplyDelivery:
    final = not error.retryable or delivery.attempts >= conf.COPILOT_HELPDESK_MAX_ATTEMPTS
    wait = max(backoff_seconds(delivery.attempts), error.retry_after or 0)
    _finish(
        delivery,
        status=ReplyDelivery.Status.FAILED if final else ReplyDelivery.Status.RETRYING,
        next_attempt_at=None if final else timezone.now() + dt.timedelta(seconds=wait),
        last_error_code=error.code,
        last_error=error.message[:300],
    )
    logger.warning(
        "helpdesks.delivery.failed",
        extra={"delivery": delivery.pk, "code": error.code, "attempts": delivery.attempts},
    )
    if final:
        return delivery
    raise DeliveryRetry(wait)


def reply_delivery_due(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of deliveries that should be attempted now: retries whose time came, queued rows
    older than a minute (a lost enqueue), and attempts whose lease ran out (a dead worker)."""
    now = now or timezone.now()
    due = ReplyDelivery.objects.filter(
        Q(status=ReplyDelivery.Status.RETRYING, next_attempt_at__lte=now)
        | Q(status=ReplyDelivery.Status.PENDING, created_at__lte=now - dt.timedelta(minutes=1))
        | Q(status=ReplyDelivery.Status.SENDING, lease_until__lte=now)
    )
    return list(due.values_list("pk", flat=True)[:500])


def helpdesk_connection_check(*, connection: HelpdeskConnection) -> HelpdeskConnection:
    """Call the helpdesk's API with the stored credentials and store what happened."""
    try:
        with helpdesk_client(connection) as client:
            message, ok = client.check(), True
    except HelpdeskError as error:
        message, ok = f"{error.code}: {error.message}", False
    connection.last_check_at = timezone.now()
    connection.last_check_ok = ok
    connection.last_check_message = message[:300]
    connection.save(update_fields=["last_check_at", "last_check_ok", "last_check_message"])
    logger.info("helpdesks.connection.checked", extra={"brand": connection.brand_id, "ok": ok})
    return connection


def helpdesk_connection_save(
    *, connection: HelpdeskConnection, api_user: str = "", api_secret: str = "", secret: str = ""
) -> HelpdeskConnection:
    """Save the connection's settings; a blank secret keeps the stored one. Changing the
    helpdesk kind drops credentials that belonged to the previous one."""
    user_key, secret_key = VENDORS[connection.kind].CREDENTIAL_KEYS
    credentials = dict(connection.credentials or {})
    credentials = {k: v for k, v in credentials.items() if k in (user_key, secret_key)}
    if api_user.strip() and user_key:
        credentials[user_key] = api_user.strip()
    if api_secret.strip():
        credentials[secret_key] = api_secret.strip()
    connection.credentials = credentials
    if secret.strip():
        connection.webhook_secret = secret.strip()
    connection.save()
    logger.info("helpdesks.connection.saved", extra={"brand": connection.brand_id})
    return connection
