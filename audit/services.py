"""Writes of the audit app: a trace is written once, with all its spans, and never changed;
reviews and approvals are rows of their own; the daily rollup is recomputed from them."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from audit import stats
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
from audit.redaction import allowed_fields_for, redact_spans
from audit.selectors import is_lead_of, policy_for
from audit.sensitivity import sensitive_reasons
from copilot.celery import has_workers
from copilot.exceptions import DraftHeld
from copilot.models import Draft

logger = logging.getLogger(__name__)


@dataclass
class SpanData:
    """A span as the engine collects it, before it is stored."""

    kind: str
    name: str
    started_at: dt.datetime
    duration_ms: int = 0
    arguments: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    status: str = Span.Status.OK
    error: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class TraceData:
    provider: str
    model: str
    prompt_version: str
    plan: dict[str, Any]
    outcome: str
    iterations: int
    tool_calls_count: int
    tools_used: list[str]
    tokens_in: int
    tokens_out: int
    latency_ms: int
    error_code: str = ""
    grounding: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    cost: Decimal = Decimal("0")
    sensitive: bool = False
    spans: list[SpanData] = field(default_factory=list)


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
        policy=policy_for(ticket.brand),
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
        return  # rollup_catch_up runs when the metrics are read
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


def check_draft_not_held(*, draft: Draft, user: AbstractBaseUser) -> None:
    """Raise `DraftHeld` when `draft` is sensitive, its brand holds sensitive drafts, no lead
    approved it yet and `user` is not a lead of the brand (a lead's own send is approval)."""
    trace = (
        Trace.objects.filter(draft_id=draft.pk, sensitive=True)
        .select_related("brand__audit_policy")
        .first()
    )
    if trace is None or not policy_for(trace.brand).hold_sensitive_drafts:
        return
    if Approval.objects.filter(trace_id=trace.pk).exists() or is_lead_of(user, trace.brand_id):
        return
    raise DraftHeld("This sensitive draft waits for a lead's approval before it can be sent.")


def draft_approve(*, trace: Trace, user: AbstractBaseUser) -> Approval:
    """Release `trace`'s held draft. The caller has checked `user` is a lead of its brand;
    approving twice keeps the first approval."""
    approval, created = Approval.objects.get_or_create(trace=trace, defaults={"approved_by": user})
    if created:
        logger.info("audit.draft.approved", extra={"trace": trace.pk, "user": user.pk})
    return approval


def review_submit(*, trace: Trace, user: AbstractBaseUser, verdict: str, note: str = "") -> Review:
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
        if relation.auto_created and not relation.concrete and relation.related_model is not Span:
            relation.related_model._base_manager.filter(
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
    """Recompute the rollup rows (one per arm) of `brand_id` for the UTC `day` from its
    traces, spans, decisions and latest verdicts. Idempotent; safe to run concurrently."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    in_day = {"created_at__gte": start, "created_at__lt": start + dt.timedelta(days=1)}
    traces = list(
        Trace.objects.filter(brand_id=brand_id, **in_day).values_list(
            "id",
            "arm",
            "draft_id",
            "draft__decision",
            "tool_calls_count",
            "latency_ms",
            "tokens_in",
            "tokens_out",
            "cost",
            "grounding",
            "sensitive",
        )
    )
    in_trace_day = {f"trace__{key}": value for key, value in in_day.items()}
    span_events = (
        Span.objects.filter(trace__brand_id=brand_id, **in_trace_day)
        .filter(kind__in=[Span.Kind.TOOL, Span.Kind.GUARDRAIL])
        .values_list("trace__arm", "kind", "status")
        .annotate(n=Count("id"))
    )
    latest_verdict: dict[int, str] = dict(
        Review.objects.filter(trace__brand_id=brand_id, **in_trace_day)
        .order_by("trace_id", "id")
        .values_list("trace_id", "verdict")
    )
    distances = edit_distances([t[2] for t in traces if t[3] == Draft.Decision.EDITED])

    rows: dict[str, DailyRollup] = {}
    latencies: dict[str, list[int]] = defaultdict(list)
    for (
        trace_id,
        arm,
        draft_id,
        decision,
        calls,
        latency,
        t_in,
        t_out,
        cost,
        grounding,
        sens,
    ) in traces:
        arm = arm or "unknown"
        row = rows.setdefault(
            arm,
            DailyRollup(
                brand_id=brand_id, day=day, arm=arm, verdicts={}, grounding={}, cost=Decimal(0)
            ),
        )
        row.drafts += 1
        if decision == Draft.Decision.ACCEPTED:
            row.accepted += 1
        elif decision == Draft.Decision.EDITED:
            row.edited += 1
            row.edit_distance_sum += distances[draft_id]
        elif decision == Draft.Decision.REJECTED:
            row.rejected += 1
        row.with_tool_calls += calls > 0
        row.tool_calls += calls
        row.sensitive += sens
        if grounding:
            row.grounding[grounding] = row.grounding.get(grounding, 0) + 1
        if trace_id in latest_verdict:
            row.reviewed += 1
            verdict = latest_verdict[trace_id]
            row.verdicts[verdict] = row.verdicts.get(verdict, 0) + 1
        row.tokens_in += t_in
        row.tokens_out += t_out
        row.cost += cost
        latencies[arm].append(latency)
    for arm, kind, status, n in span_events:
        row = rows.get(arm or "unknown")
        if row is None:
            continue
        if kind == Span.Kind.TOOL and status == Span.Status.ERROR:
            row.tool_errors += n
        elif kind == Span.Kind.GUARDRAIL and status == Span.Status.BLOCKED:
            row.safeguard_events += n
    now = timezone.now()
    for arm, row in rows.items():
        row.latency_histogram = stats.histogram(latencies[arm])
        row.updated_at = now

    with transaction.atomic():
        DailyRollup.objects.filter(brand_id=brand_id, day=day).exclude(arm__in=rows).delete()
        DailyRollup.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["brand", "day", "arm"],
            update_fields=_ROLLUP_FIELDS,
        )
    return list(rows.values())


def edit_distances(draft_ids: list[int]) -> dict[int, float]:
    """Normalized edit distance (draft body -> sent text) of each draft, computed once and
    stored; later calls read the stored value."""
    known = dict(
        DraftEditDistance.objects.filter(draft_id__in=draft_ids).values_list("draft_id", "distance")
    )
    missing = [
        DraftEditDistance(
            draft_id=pk, distance=stats.normalized_edit_distance(body.strip(), final.strip())
        )
        for pk, body, final in Draft.objects.filter(
            pk__in=set(draft_ids) - set(known), decision=Draft.Decision.EDITED
        ).values_list("pk", "body", "final_text")
    ]
    DraftEditDistance.objects.bulk_create(missing, ignore_conflicts=True)
    known.update((m.draft_id, m.distance) for m in missing)
    return known


def _touched_days(after: dt.datetime | None, *, brand_id: int | None = None) -> set[tuple]:
    """The (brand id, UTC day) pairs whose rollup may have changed since `after` (all when
    None): new traces, decisions on drafts (whatever day their trace belongs to), reviews."""
    traces = Trace.objects.all() if brand_id is None else Trace.objects.filter(brand_id=brand_id)
    changes = (
        [{}]
        if after is None
        else [
            {"created_at__gte": after},
            {"draft__decided_at__gte": after},
            {"reviews__created_at__gte": after},
        ]
    )
    day = TruncDate("created_at", tzinfo=dt.UTC)
    return {
        pair
        for change in changes
        for pair in traces.filter(**change)
        .annotate(day=day)
        .values_list("brand_id", "day")
        .order_by()
        .distinct()
    }


def rollup_refresh_recent(*, since: dt.timedelta = dt.timedelta(hours=2)) -> int:
    """Refresh every brand-day touched in the last `since` (run by beat). Returns how many
    were refreshed."""
    pairs = _touched_days(timezone.now() - since)
    for brand_id, trace_day in sorted(pairs):
        rollup_refresh(brand_id=brand_id, day=trace_day)
    return len(pairs)


# A trace committed while a refresh of its day was reading is newer than nothing the refresh
# saw, yet older than the refresh's timestamp; catching up re-reads this much before it.
ROLLUP_CATCH_UP_OVERLAP = dt.timedelta(minutes=1)


def rollup_catch_up(*, brand_id: int) -> int:
    """Refresh the brand's days changed since its rollup was last written (every day with
    traces when it never was). For embedded mode, where no worker does it; a no-op with one.
    Returns how many days were refreshed."""
    if has_workers():
        return 0
    last = (
        DailyRollup.objects.filter(brand_id=brand_id)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    pairs = _touched_days(last and last - ROLLUP_CATCH_UP_OVERLAP, brand_id=brand_id)
    for _, trace_day in sorted(pairs):
        rollup_refresh(brand_id=brand_id, day=trace_day)
    return len(pairs)
