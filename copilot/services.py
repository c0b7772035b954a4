"""Writes of the core domain: tickets in, drafts generated, agents' decisions stored."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Trace
from audit.services import check_draft_not_held, trace_record
from copilot import access, progress, selectors
from copilot.agent import engine, shadow
from copilot.agent.providers import provider_for
from copilot.conf import conf
from copilot.exceptions import DraftAlreadyDecided, DraftConflict, DraftNotReady
from copilot.helpdesks.services import reply_delivery_create
from copilot.models import Brand, Customer, Draft, Message, Ticket
from rollout.services import plan_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    ticket: Ticket
    draft: Draft
    created: bool


def ticket_ingest(
    *,
    brand: Brand,
    external_id: str,
    body: str,
    subject: str = "",
    customer_external_id: str = "",
    customer_email: str = "",
    customer_email_verified: bool = False,
    customer_name: str = "",
) -> IngestResult:
    """Store a ticket and its first message, and request its draft once committed.

    Idempotent on (brand, external_id): a repeat returns the stored ticket and its latest
    draft, and stores nothing.
    """
    existing = _existing_ticket(brand, external_id)
    if existing:
        return existing
    try:
        with transaction.atomic():
            customer = None
            if customer_external_id or customer_email:
                customer, _ = Customer.objects.update_or_create(
                    brand=brand,
                    external_id=customer_external_id or customer_email.lower(),
                    defaults={
                        "email": customer_email,
                        "email_verified": customer_email_verified,
                        "name": customer_name,
                    },
                )
            ticket = Ticket.objects.create(
                brand=brand, customer=customer, external_id=external_id, subject=subject
            )
            Message.objects.create(ticket=ticket, author=Message.Author.CUSTOMER, body=body)
            draft = draft_request(ticket=ticket)
    except IntegrityError:
        # Another request stored the same external id between our read and our write.
        existing = _existing_ticket(brand, external_id)
        if existing is None:
            raise
        return existing
    logger.info("copilot.ticket.ingested", extra={"brand": brand.pk, "ticket": ticket.pk})
    return IngestResult(ticket=ticket, draft=draft, created=True)


def _existing_ticket(brand: Brand, external_id: str) -> IngestResult | None:
    ticket = Ticket.objects.filter(brand=brand, external_id=external_id).first()
    if ticket is None:
        return None
    draft = selectors.latest_draft(ticket) or draft_request(ticket=ticket)
    return IngestResult(ticket=ticket, draft=draft, created=False)


def draft_request(*, ticket: Ticket, enqueue: bool = True) -> Draft:
    """Create a pending draft for `ticket`; unless `enqueue` is off, queue its generation
    for when the transaction commits (the caller then runs `draft_generate` itself)."""
    draft = Draft.objects.create(ticket=ticket)
    if enqueue:
        transaction.on_commit(lambda: _enqueue(draft.pk))
    return draft


def _enqueue(draft_id: int) -> bool:
    """Queue the generation of `draft_id`; a broker outage is logged, not raised.

    The draft is stored either way: the request that made it answers at once, and
    `draft_sweep` queues it again once the broker is back.
    """
    from kombu.exceptions import OperationalError

    from copilot.tasks import draft_generate_task

    try:
        draft_generate_task.delay(draft_id)
    except OperationalError:
        logger.warning("copilot.draft.enqueue_failed", extra={"draft": draft_id})
        return False
    return True


def draft_generate(*, draft_id: int, provider_name: str | None = None) -> Draft | None:
    """Run the copilot for a pending draft and store its text and trace, exactly once.

    Safe to call again for the same draft (a retried task, a re-queued one): the trace and
    the draft's final status are written in one transaction, so a draft that has its trace
    is no longer open and is left as it is (and Trace.draft is one-to-one besides).
    """
    # Conditional UPDATEs claim and finish the draft: two runs may both claim an open draft
    # (a sweeper re-queues one left `generating`), but only one finishes it and writes a trace.
    claimed = Draft.objects.filter(pk=draft_id, status__in=Draft.OPEN_STATUSES).update(
        status=Draft.Status.GENERATING, updated_at=timezone.now()
    )
    if not claimed:
        return None

    # The brand's audit policy and allow-list come along for the trace written at the end;
    # the order source's credentials stay unread (the tool reads its own source).
    draft = (
        Draft.objects.select_related(
            "ticket__brand__audit_policy", "ticket__brand__order_source", "ticket__customer"
        )
        .defer("ticket__brand__order_source__credentials")
        .prefetch_related("ticket__messages")
        .get(pk=draft_id)
    )
    ticket = draft.ticket
    plan = plan_for(ticket)
    provider = provider_for(ticket.brand, provider_name)
    if connection.settings_dict["OPTIONS"].get("pool") and not connection.in_atomic_block:
        # The run mostly waits on the model: give the connection back to the pool meanwhile,
        # so a worker with many drafts in flight needs few database connections. (Without a
        # pool, closing would only mean opening a new connection afterwards.)
        connection.close()
    result = engine.run(
        ticket=ticket, plan=plan, provider=provider, on_span=progress.recorder(draft_id)
    )
    if plan.shadow_tools:
        # After the draft is written, so nothing the shadow call returns can reach it.
        result.trace.spans.extend(shadow.run(ticket=ticket, plan=plan))

    if result.ok:
        draft.status, draft.body, draft.status_reason = Draft.Status.READY, result.text, ""
    elif result.outcome == Trace.Outcome.BLOCKED:
        draft.status, draft.status_reason = Draft.Status.BLOCKED, result.reason[:300]
    else:
        draft.status, draft.status_reason = Draft.Status.FAILED, result.reason[:300]
    draft.updated_at = timezone.now()
    with transaction.atomic():
        finished = Draft.objects.filter(pk=draft_id, status=Draft.Status.GENERATING).update(
            status=draft.status,
            body=draft.body,
            status_reason=draft.status_reason,
            updated_at=draft.updated_at,
        )
        if finished:
            trace_record(draft=draft, data=result.trace)
    if not finished:  # another run of this draft finished first
        return Draft.objects.get(pk=draft_id)
    progress.progress_clear(draft_id=draft_id)
    logger.info(
        "copilot.draft.generated",
        extra={"draft": draft.pk, "outcome": result.outcome, "latency_ms": result.trace.latency_ms},
    )
    return draft


def _decide(
    *,
    draft: Draft,
    user: User,
    expected_version: int,
    decision: str,
    final_text: str = "",
    reject_reason: str = "",
) -> Draft:
    """Store an agent's decision if nobody changed the draft since `expected_version`."""
    if draft.status != Draft.Status.READY:
        raise DraftNotReady("This draft is not ready yet.")
    if decision != Draft.Decision.REJECTED:
        check_draft_not_held(draft=draft, user=user)
    with transaction.atomic():
        updated = Draft.objects.filter(
            pk=draft.pk, version=expected_version, decision="", status=Draft.Status.READY
        ).update(
            decision=decision,
            final_text=final_text,
            reject_reason=reject_reason,
            decided_by=user,
            decided_at=timezone.now(),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not updated:
            current = Draft.objects.select_related("decided_by").get(pk=draft.pk)
            if current.decision:
                raise DraftAlreadyDecided(
                    f"This draft was already {current.get_decision_display().lower()}.",
                    current=current,
                )
            raise DraftConflict(
                "Someone else changed this draft; reload to see their version.", current=current
            )
        if decision != Draft.Decision.REJECTED:
            Message.objects.create(
                ticket_id=draft.ticket_id,
                author=Message.Author.AGENT,
                body=final_text,
                sent_by=user,
            )
            # Back to the helpdesk the ticket came from, through the outbox, after commit.
            reply_delivery_create(draft=draft, text=final_text)
    draft.refresh_from_db(from_queryset=access.drafts_for_panel())
    return draft


def draft_accept(*, draft: Draft, user: User, expected_version: int) -> Draft:
    """Send the draft as written."""
    return _decide(
        draft=draft,
        user=user,
        expected_version=expected_version,
        decision=Draft.Decision.ACCEPTED,
        final_text=draft.body,
    )


def draft_edit(*, draft: Draft, user: User, expected_version: int, text: str) -> Draft:
    """Send the agent's edited text; an unchanged text counts as accepted as is."""
    unchanged = text.strip() == draft.body.strip()
    return _decide(
        draft=draft,
        user=user,
        expected_version=expected_version,
        decision=Draft.Decision.ACCEPTED if unchanged else Draft.Decision.EDITED,
        final_text=text.strip(),
    )


def draft_reject(*, draft: Draft, user: User, expected_version: int, reason: str = "") -> Draft:
    """Discard the draft; the reason feeds the metrics."""
    return _decide(
        draft=draft,
        user=user,
        expected_version=expected_version,
        decision=Draft.Decision.REJECTED,
        reject_reason=reason.strip()[:300],
    )


def draft_regenerate(*, ticket: Ticket) -> Draft:
    """Request a fresh draft unless one is already on its way."""
    with transaction.atomic():
        pending = ticket.drafts.filter(status__in=Draft.OPEN_STATUSES).first()
        return pending or draft_request(ticket=ticket)


def draft_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again every draft that lost its way, and return their ids.

    A draft `generating` for `COPILOT_DRAFT_STUCK_SECONDS` without a change lost its worker
    (the limit is above the task's hard time limit, so no live run is that old); a draft
    `pending` for `COPILOT_DRAFT_PENDING_SECONDS` was never delivered (broker down or
    restarted without persistence). Generation is idempotent, so a draft queued twice is
    still written once. Each re-queued draft's `updated_at` is touched so that the next
    sweep waits a full period before queueing it again.
    """
    now = now or timezone.now()
    stuck = Draft.objects.filter(
        status=Draft.Status.GENERATING,
        updated_at__lt=now - dt.timedelta(seconds=conf.COPILOT_DRAFT_STUCK_SECONDS),
    ) | Draft.objects.filter(
        status=Draft.Status.PENDING,
        updated_at__lt=now - dt.timedelta(seconds=conf.COPILOT_DRAFT_PENDING_SECONDS),
    )
    ids = list(stuck.order_by("id").values_list("pk", flat=True)[:500])
    if not ids:
        return []
    Draft.objects.filter(pk__in=ids, status__in=Draft.OPEN_STATUSES).update(
        status=Draft.Status.PENDING, updated_at=now
    )
    queued = [draft_id for draft_id in ids if _enqueue(draft_id)]
    logger.info("copilot.draft.swept", extra={"requeued": len(queued), "found": len(ids)})
    return queued
