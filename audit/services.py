"""Writes of the audit app: a trace is written once, with all its spans, and never changed;
reviews and approvals are rows of their own; the daily rollup is recomputed from them."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone

from audit import selectors
from audit.exceptions import DraftHeld
from audit.models import (
    ROLLUP_COUNTERS,
    ROLLUP_HISTOGRAMS,
    Approval,
    DailyRollup,
    DraftEditDistance,
    Review,
    Span,
    Trace,
    Verdict,
    purge_allowed,
)
from audit.records import TraceData
from audit.redaction import allowed_fields_for, redact_spans
from audit.sensitivity import sensitive_reasons
from copilot.celery import has_workers
from copilot.models import Draft

logger = logging.getLogger(__name__)


def trace_record(*, draft: Draft, data: TraceData) -> Trace:
    """Store the trace of `draft`'s run with its spans in order, in one transaction.

    Tool spans are redacted to the brand's allow-list first; the brand's sensitivity rules
    decide `sensitive` (a caller's `data.sensitive=True` is kept). Once committed, the
    rollup of the trace's brand and day is refreshed by a task.
    """
    ticket = draft.ticket
    tool_spans = any(span.kind == Span.Kind.TOOL for span in data.spans)
    spans = redact_spans(
        data.spans, allowed_fields_for(ticket.brand) if tool_spans else frozenset()
    )
    ticket_text = f"{ticket.subject}\n{ticket.customer_text()}"
    reasons = sensitive_reasons(
        policy=selectors.policy_for(ticket.brand),
        ticket_text=ticket_text,
        customer=ticket.customer,
        spans=spans,
        grounding=data.grounding,
    )
    # No savepoint: inside the caller's transaction the whole draft commit is the unit.
    with transaction.atomic(savepoint=False):
        trace = Trace.objects.create(
            brand_id=ticket.brand_id,
            ticket_id=draft.ticket_id,
            draft=draft,
            provider=data.provider,
            model=data.model,
            prompt_version=data.prompt_version,
            plan=data.plan,
            arm=str(data.plan.get("arm") or ""),
            config=data.config,
            outcome=data.outcome,
            iterations=data.iterations,
            tool_calls_count=data.tool_calls_count,
            tools_used=data.tools_used,
            tokens_in=data.tokens_in,
            tokens_out=data.tokens_out,
            cost=data.cost,
            latency_ms=data.latency_ms,
            error_code=data.error_code,
            grounding=data.grounding,
            sensitive=data.sensitive or bool(reasons),
            sensitive_reasons=reasons,
        )
        Span.objects.bulk_create(
            Span(
                trace=trace,
                seq=seq,
                kind=span.kind,
                name=span.name,
                arguments=span.arguments,
                result=span.result,
                status=span.status,
                error=span.error,
                attributes=span.attributes,
                started_at=span.started_at,
                duration_ms=span.duration_ms,
            )
            for seq, span in enumerate(spans, start=1)
        )
        _refresh_rollup_on_commit(trace)
    if trace.sensitive:
        logger.info(
            "audit.trace.sensitive",
            extra={"trace": trace.pk, "brand": trace.brand_id, "reasons": reasons},
        )
    return trace


# With a broker, the traces of one brand and day landing within this many seconds share one
# rollup refresh: a burst of drafts costs one recompute of the day, not one per draft.
ROLLUP_COALESCE_SECONDS = 5


def rollup_pending_key(brand_id: int, day: str) -> str:
    """The cache key marking a queued, not yet started refresh of one brand and day."""
    return f"audit:rollup-pending:{brand_id}:{day}"


def _refresh_rollup_on_commit(trace: Trace) -> None:
    if not has_workers():
        return  # without workers the metrics page reads the changed days live
    from audit.tasks import rollup_refresh_task

    brand_id, day = trace.brand_id, utc_day(trace.created_at).isoformat()

    def enqueue() -> None:
        if cache.add(rollup_pending_key(brand_id, day), 1, timeout=ROLLUP_COALESCE_SECONDS * 6):
            rollup_refresh_task.apply_async((brand_id, day), countdown=ROLLUP_COALESCE_SECONDS)

    transaction.on_commit(enqueue)


def utc_day(moment: dt.datetime) -> dt.date:
    """The UTC calendar day of `moment`; rollups and metrics count days in UTC."""
    return moment.astimezone(dt.UTC).date()


# --- holds, approvals and reviews ----------------------------------------------------------


def check_draft_not_held(*, draft: Draft, user: User) -> None:
    """Raise `DraftHeld` when `draft` is sensitive, its brand holds sensitive drafts, no lead
    approved it yet and `user` is not a lead of the brand (a lead's own send is approval)."""
    trace = (
        Trace.objects.filter(draft_id=draft.pk, sensitive=True)
        .select_related("brand__audit_policy")
        .first()
    )
    if trace is None or not selectors.policy_for(trace.brand).hold_sensitive_drafts:
        return
    if Approval.objects.filter(trace_id=trace.pk).exists() or selectors.is_lead_of(
        user, trace.brand_id
    ):
        return
    raise DraftHeld("This sensitive draft waits for a lead's approval before it can be sent.")


def draft_approve(*, trace: Trace, user: User) -> Approval:
    """Release `trace`'s held draft. The caller has checked `user` is a lead of its brand;
    approving twice keeps the first approval."""
    approval, created = Approval.objects.get_or_create(trace=trace, defaults={"approved_by": user})
    if created:
        logger.info("audit.draft.approved", extra={"trace": trace.pk, "user": user.pk})
    return approval


def review_submit(*, trace: Trace, user: User, verdict: str, note: str = "") -> Review:
    """Add a lead's verdict on `trace` (the caller has checked the role); the latest verdict
    of a trace is the one the metrics count."""
    review = Review.objects.create(
        trace=trace, reviewer=user, verdict=Verdict(verdict), note=note.strip()
    )
    _refresh_rollup_on_commit(trace)
    logger.info("audit.review.submitted", extra={"trace": trace.pk, "verdict": verdict})
    return review


# --- retention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    cutoff: dt.datetime
    traces: int
    spans: int
    dry_run: bool


def traces_purge(
    *, older_than_days: int, dry_run: bool = False, batch_size: int = 1000
) -> PurgeResult:
    """Delete traces created before now - `older_than_days` days, with their spans, reviews
    and approvals, in batches; nothing newer is touched. The only delete path of traces."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    old = Trace.objects.filter(created_at__lt=cutoff)
    if dry_run:
        spans = Span.objects.filter(trace__created_at__lt=cutoff).count()
        return PurgeResult(cutoff=cutoff, traces=old.count(), spans=spans, dry_run=True)
    traces = spans = 0
    while True:
        with transaction.atomic(), purge_allowed():
            ids = list(old.order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL audit.allow_purge = 'on'")
                _delete_rows_pointing_at(ids)
                spans += _delete_by_ids(cursor, Span._meta.db_table, "trace_id", ids)
                traces += _delete_by_ids(cursor, Trace._meta.db_table, "id", ids)
                if connection.vendor == "postgresql":
                    # Inside a caller's transaction SET LOCAL would outlive this block.
                    cursor.execute("SET LOCAL audit.allow_purge = 'off'")
    logger.info(
        "audit.traces.purged",
        extra={"cutoff": cutoff.isoformat(), "traces": traces, "spans": spans},
    )
    return PurgeResult(cutoff=cutoff, traces=traces, spans=spans, dry_run=False)


def _delete_rows_pointing_at(trace_ids: list[int]) -> None:
    """Delete, with their own cascades, the rows of any app that point at these traces
    (reviews, approvals, replay items...), before the traces and spans go by raw SQL."""
    for relation in Trace._meta.get_fields(include_hidden=True):
        # The reverse relations (auto-created, not concrete): `field` is the other model's
        # foreign key to Trace, and `field.model` that model (the relation's related_model).
        if isinstance(relation, ForeignObjectRel) and relation.related_model is not Span:
            relation.field.model._base_manager.filter(
                **{f"{relation.field.name}__in": trace_ids}
            ).delete()


def _delete_by_ids(cursor: Any, table: str, column: str, ids: list[int]) -> int:
    # Raw SQL on purpose: the ORM refuses to delete traces; table and column are ours.
    placeholders = ", ".join(["%s"] * len(ids))
    cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", ids)  # noqa: S608  # nosec B608
    return cursor.rowcount


# --- the daily rollup ------------------------------------------------------------------------

_ROLLUP_FIELDS = [*ROLLUP_COUNTERS, *ROLLUP_HISTOGRAMS, "updated_at"]


def rollup_refresh(*, brand_id: int, day: dt.date) -> list[DailyRollup]:
    """Recompute and store the rollup rows (one per arm) of `brand_id` for the UTC `day`,
    and the edit distances computed on the way. Idempotent; safe to run concurrently."""
    computed = selectors.rollup_compute(brand_id=brand_id, day=day)
    rows = {row.arm: row for row in computed.rows}
    with transaction.atomic():
        DailyRollup.objects.filter(brand_id=brand_id, day=day).exclude(arm__in=rows).delete()
        DailyRollup.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["brand", "day", "arm"],
            update_fields=_ROLLUP_FIELDS,
        )
    DraftEditDistance.objects.bulk_create(computed.new_distances, ignore_conflicts=True)
    return computed.rows


def rollup_refresh_recent(*, since: dt.timedelta = dt.timedelta(hours=2)) -> int:
    """Refresh every brand-day touched in the last `since` (run by beat). Returns how many
    were refreshed."""
    pairs = selectors.touched_days(timezone.now() - since)
    for brand_id, trace_day in sorted(pairs):
        rollup_refresh(brand_id=brand_id, day=trace_day)
    return len(pairs)
