"""Writes of the replay app: configurations saved as versions, runs started and advanced.

A replay runs the real engine (same prompts, provider, safeguards) on a past ticket, but
its tools answer from the recorded tool spans of the ticket's trace, so the order data is
the data as read at the time and no order system is called. Results go to replay tables,
never to the audit trail.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from audit.models import CONTROL, Span, Trace
from copilot.agent import engine
from copilot.agent.providers import provider_for
from copilot.celery import has_workers
from copilot.models import Brand
from replay.conf import conf
from replay.exceptions import NoTicketsToReplay, ReplayError
from replay.models import ReplayConfiguration, ReplayItem, ReplayResult, ReplayRun
from replay.recorded import NOT_RECORDED, recorded_tools
from replay.selectors import ReplayFilters, replay_candidates, sent_text
from replay.similarity import edit_similarity
from rollout.plan import Plan

logger = logging.getLogger(__name__)

REPLAY_CRASHED = "replay_crashed"
_MILLION = Decimal(1_000_000)


def replay_config_save(
    *, brand: Brand, name: str, values: dict[str, Any], user: User | None = None
) -> ReplayConfiguration:
    """Store `values` as the next version of configuration `name` (version 1 if new).

    Versions are never edited. Saving values equal to the latest version stores nothing and
    returns that version, so a result's version always names settings that differ.
    """
    unknown = set(values) - set(ReplayConfiguration.SETTINGS)
    if unknown:
        raise ValueError(f"Unknown configuration fields: {sorted(unknown)}")
    with transaction.atomic():
        latest = (
            ReplayConfiguration.objects.select_for_update()
            .filter(brand=brand, name=name)
            .order_by("-version")
            .first()
        )
        if latest is not None and all(
            getattr(latest, key) == value for key, value in values.items()
        ):
            return latest
        base = {key: getattr(latest, key) for key in ReplayConfiguration.SETTINGS} if latest else {}
        config = ReplayConfiguration.objects.create(
            brand=brand,
            name=name,
            version=latest.version + 1 if latest else 1,
            created_by=user,
            **{**base, **values},
        )
    logger.info(
        "replay.config.saved",
        extra={"brand": brand.pk, "config": name, "version": config.version},
    )
    return config


def replay_start(
    *,
    brand: Brand,
    config_a: ReplayConfiguration,
    config_b: ReplayConfiguration | None = None,
    filters: ReplayFilters,
    user: User | None = None,
    dispatch: bool = True,
) -> ReplayRun:
    """Store a run over the past tickets `filters` picks and queue its chunks on commit.

    One Celery task per chunk of item ids. Without a broker (embedded mode, tasks eager)
    nothing is queued, because an eager chunk would run inside the caller's request: there,
    `replay_advance` runs one chunk per call (the progress poll or the command calls it).
    `dispatch=False` queues nothing either; the caller advances the run itself.
    """
    for config in (config_a, config_b):
        if config is not None and config.brand_id != brand.pk:
            raise ReplayError("A configuration of another brand cannot be used.")
    traces = replay_candidates(brand=brand, filters=filters)
    if not traces:
        raise NoTicketsToReplay("No past ticket with a trace matches these filters.")
    with transaction.atomic():
        run = ReplayRun.objects.create(
            brand=brand,
            config_a=config_a,
            config_b=config_b,
            filters=filters.as_dict(),
            total=len(traces),
            chunk_size=conf.REPLAY_CHUNK_SIZE,
            created_by=user,
        )
        items = ReplayItem.objects.bulk_create(
            ReplayItem(
                run=run,
                seq=seq,
                ticket_id=trace.ticket_id,
                source_trace=trace,
                sent_text=sent_text(trace.draft),
            )
            for seq, trace in enumerate(traces, start=1)
        )
        if dispatch and has_workers():
            ids = [item.pk for item in items]  # SQLite and PostgreSQL return them
            chunks = [ids[i : i + run.chunk_size] for i in range(0, len(ids), run.chunk_size)]
            transaction.on_commit(lambda: _enqueue(run.pk, chunks))
    logger.info(
        "replay.run.started",
        extra={
            "brand": brand.pk,
            "run": run.pk,
            "items": run.total,
            "eager": not has_workers(),
        },
    )
    return run


def _enqueue(run_id: int, chunks: list[list[int]]) -> None:
    from replay.tasks import replay_chunk_task

    for chunk in chunks:
        replay_chunk_task.delay(run_id, chunk)


def replay_advance(*, run_id: int) -> ReplayRun:
    """Replay the next chunk of items not yet done, and return the run as it then is."""
    run = ReplayRun.objects.get(pk=run_id)
    ids = list(
        run.items.filter(done=False).order_by("seq").values_list("pk", flat=True)[: run.chunk_size]
    )
    if ids:
        replay_chunk_run(run_id=run_id, item_ids=ids)
    else:
        _finish_if_complete(run_id)
    run.refresh_from_db()
    return run


def replay_chunk_run(*, run_id: int, item_ids: list[int]) -> int:
    """Replay the items `item_ids` of run `run_id` under its configurations; returns how
    many this call stored. Items already done are skipped, so a retried chunk is harmless."""
    run = (
        ReplayRun.objects.select_related("brand", "config_a", "config_b").filter(pk=run_id).first()
    )
    if run is None:
        return 0
    items = list(
        ReplayItem.objects.filter(run=run, pk__in=item_ids, done=False)
        .select_related("ticket__brand", "ticket__customer", "source_trace")
        .prefetch_related(
            "ticket__messages",
            Prefetch(
                "source_trace__spans",
                queryset=Span.objects.filter(kind=Span.Kind.TOOL).order_by("seq"),
            ),
        )
    )
    sides = [("a", run.config_a), ("b", run.config_b)]
    results = {
        item.pk: [
            _replay_or_fail(item=item, config=config, side=side)
            for side, config in sides
            if config is not None
        ]
        for item in items
    }
    with transaction.atomic():
        fresh = list(
            ReplayItem.objects.select_for_update()
            .filter(pk__in=results, done=False)
            .values_list("pk", flat=True)
        )
        ReplayResult.objects.bulk_create(r for pk in fresh for r in results[pk])
        ReplayItem.objects.filter(pk__in=fresh).update(done=True)
        ReplayRun.objects.filter(pk=run_id).update(done=F("done") + len(fresh))
    _finish_if_complete(run_id)
    logger.info("replay.chunk.done", extra={"run": run_id, "items": len(fresh)})
    return len(fresh)


def _replay_or_fail(*, item: ReplayItem, config: ReplayConfiguration, side: str) -> ReplayResult:
    """`replay_item`, or a failed result if it crashed: the engine itself never raises for
    model or tool faults, so this is a bug, and one bad ticket must not stall the run."""
    try:
        return replay_item(item=item, config=config, side=side)
    except Exception:
        logger.exception(
            "replay.item.crashed", extra={"run": item.run_id, "item": item.pk, "side": side}
        )
        return ReplayResult(
            item=item,
            side=side,
            config=config,
            outcome=Trace.Outcome.FAILED,
            error_code=REPLAY_CRASHED,
            reason="The replay of this ticket crashed; see the logs.",
            provider=config.provider,
        )


def _finish_if_complete(run_id: int) -> None:
    ReplayRun.objects.filter(
        pk=run_id, status=ReplayRun.Status.RUNNING, done__gte=F("total")
    ).update(status=ReplayRun.Status.DONE, finished_at=timezone.now())


def replay_item(*, item: ReplayItem, config: ReplayConfiguration, side: str) -> ReplayResult:
    """Run the engine on `item`'s ticket under `config`, tools answering from the recording.

    Returns the unsaved result. The ticket and brand are copied and overridden in memory
    only: nothing of the past ticket is changed.
    """
    brand = copy.copy(item.ticket.brand)
    brand.tone = config.tone or brand.tone
    brand.reply_language = config.reply_language or brand.reply_language
    brand.prompt_version = config.prompt_version
    brand.ai_model = config.model or brand.ai_model
    # Today's live token budget governs live drafts; a replay writes no trace, so it neither
    # spends that budget nor may depend on how much of it today's traffic has used.
    brand.daily_token_budget = 0
    ticket = copy.copy(item.ticket)
    ticket.brand = brand
    provider = provider_for(brand, config.provider)
    if config.model and config.provider != ReplayConfiguration.Provider.RULES:
        provider.model = config.model
    source = item.source_trace
    plan = Plan(
        available_tools=tuple(config.tools),
        stage="replay",
        arm=str(source.plan.get("arm", CONTROL)),
        bucket=source.plan.get("bucket"),
        reasons=(f"replay of trace {source.pk} with {config.label}",),
    )
    limits = dataclasses.replace(
        engine.EngineLimits.from_settings(),
        max_iterations=config.max_iterations,
        run_deadline_seconds=config.run_deadline_seconds,
        tool_timeout_seconds=config.tool_timeout_seconds,
    )
    tools = recorded_tools(spans=source.spans.all(), names=config.tools)
    # Relative dates in the draft are read against the day the recorded tools answered.
    result = engine.run(
        ticket=ticket,
        plan=plan,
        provider=provider,
        limits=limits,
        tools=tools,
        today=timezone.localdate(source.created_at),
    )
    trace = result.trace
    spans = [
        {
            "kind": span.kind,
            "name": span.name,
            "status": span.status,
            "arguments": span.arguments,
            "error": (span.error or {}).get("code", ""),
        }
        for span in trace.spans
    ]
    cost = (
        Decimal(trace.tokens_in) * config.price_in_per_mtok
        + Decimal(trace.tokens_out) * config.price_out_per_mtok
    ) / _MILLION
    return ReplayResult(
        item=item,
        side=side,
        config=config,
        text=result.text,
        outcome=result.outcome,
        reason=result.reason[:300],
        error_code=trace.error_code,
        grounding=trace.grounding,
        provider=trace.provider,
        model=trace.model,
        prompt_version=trace.prompt_version,
        iterations=trace.iterations,
        tool_calls_count=trace.tool_calls_count,
        tools_used=trace.tools_used,
        # A safeguard fired when its span is not OK; a grounding check that passed is not one.
        safeguards=[
            s["name"]
            for s in spans
            if s["kind"] == Span.Kind.GUARDRAIL and s["status"] != Span.Status.OK
        ],
        not_recorded=sum(s["kind"] == Span.Kind.TOOL and s["error"] == NOT_RECORDED for s in spans),
        spans=spans,
        tokens_in=trace.tokens_in,
        tokens_out=trace.tokens_out,
        cost=cost.quantize(Decimal("0.000001")),
        latency_ms=trace.latency_ms,
        similarity=edit_similarity(result.text, item.sent_text) if item.sent_text else None,
    )
