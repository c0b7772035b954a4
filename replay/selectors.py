"""Reads of the replay app: which past tickets to replay, and the report of a run."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, Max, OuterRef, Prefetch
from django.http import Http404

from audit.models import Span, Trace
from audit.selectors import called_tool, within_utc_days
from copilot.access import access_brand
from copilot.models import Brand, Draft, Role
from replay.models import ReplayConfiguration, ReplayItem, ReplayResult, ReplayRun

RUNS_SHOWN = 20


@dataclass(frozen=True)
class ReplayFilters:
    """Which past tickets a run replays: the latest traced draft of each ticket in the window."""

    since: dt.date
    until: dt.date | None = None
    tool: str = ""  # only runs that called this tool
    outcome: str = ""  # only runs that ended so
    decision: str = ""  # "", "sent" (accepted or edited), or one Draft.Decision
    limit: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat()
        data["until"] = self.until.isoformat() if self.until else None
        return data


SENT_DECISIONS = (Draft.Decision.ACCEPTED, Draft.Decision.EDITED)


def replay_candidates(*, brand: Brand, filters: ReplayFilters) -> list[Trace]:
    """The traces to replay, oldest first, one per ticket (its latest in the window)."""
    traces = within_utc_days(Trace.objects.filter(brand=brand), filters.since, filters.until)
    if filters.tool:
        traces = traces.filter(called_tool(filters.tool))
    if filters.outcome:
        traces = traces.filter(outcome=filters.outcome)
    if filters.decision == "sent":
        traces = traces.filter(draft__decision__in=SENT_DECISIONS)
    elif filters.decision:
        traces = traces.filter(draft__decision=filters.decision)
    latest = traces.values("ticket_id").annotate(last=Max("id")).values("last")
    chosen = Trace.objects.filter(pk__in=latest).select_related("draft").order_by("id")
    if filters.limit:
        chosen = chosen[: filters.limit]
    return list(chosen)


def sent_text(draft: Draft) -> str:
    """What the agent sent for `draft`: its final text when accepted or edited, else nothing."""
    return draft.final_text if draft.decision in SENT_DECISIONS else ""


# --- configurations ------------------------------------------------------------------------


def configs_latest(brand: Brand) -> list[ReplayConfiguration]:
    """The latest version of each of the brand's configurations, by name."""
    newer = ReplayConfiguration.objects.filter(
        brand=OuterRef("brand"), name=OuterRef("name"), version__gt=OuterRef("version")
    )
    return list(ReplayConfiguration.objects.filter(brand=brand).exclude(Exists(newer)))


def config_latest(brand: Brand, name: str) -> ReplayConfiguration | None:
    """The latest version of configuration `name`, or None."""
    return ReplayConfiguration.objects.filter(brand=brand, name=name).order_by("-version").first()


def config_named(brand: Brand, spec: str) -> ReplayConfiguration | None:
    """Configuration `name` (its latest version) or `name@N` (version N), or None."""
    name, _, version = spec.partition("@")
    if not version:
        return config_latest(brand, name)
    if not version.isdigit():
        return None
    return ReplayConfiguration.objects.filter(brand=brand, name=name, version=int(version)).first()


def config_versions(brand: Brand, name: str) -> list[ReplayConfiguration]:
    """Every version of configuration `name`, newest first."""
    return list(ReplayConfiguration.objects.filter(brand=brand, name=name).order_by("-version"))


# --- runs ----------------------------------------------------------------------------------


def runs_for_brand(brand: Brand) -> list[ReplayRun]:
    return list(
        ReplayRun.objects.filter(brand=brand).select_related("config_a", "config_b")[:RUNS_SHOWN]
    )


def access_replay_run(user: User, slug: str, run_id: int) -> ReplayRun:
    """Run `run_id` of brand `slug` for a lead (or admin) of that brand, or 404."""
    membership = access_brand(user, slug, role=Role.LEAD)
    run = (
        ReplayRun.objects.select_related("brand", "config_a", "config_b")
        .filter(pk=run_id, brand=membership.brand)
        .first()
    )
    if run is None:
        raise Http404("No such replay.")
    return run


def run_items(run: ReplayRun) -> list[ReplayItem]:
    """The run's items in order, each with its results (side a, then b) and ticket."""
    return list(
        run.items.select_related("ticket", "source_trace").prefetch_related(
            Prefetch("results", queryset=ReplayResult.objects.order_by("side"))
        )
    )


def access_replay_item(run: ReplayRun, item_id: int) -> ReplayItem:
    """Item `item_id` of an already access-checked `run`, with its source trace's spans."""
    item = (
        run.items.select_related("ticket", "source_trace__draft")
        .prefetch_related(
            Prefetch("results", queryset=ReplayResult.objects.order_by("side")),
            Prefetch("source_trace__spans", queryset=Span.objects.order_by("seq")),
            "ticket__messages",
        )
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404("No such replay item.")
    return item


# --- the report ----------------------------------------------------------------------------


@dataclass
class SideSummary:
    """One configuration's figures over a run's items."""

    side: str
    config: str
    results: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    called_tools: int = 0  # items where at least one tool call ran
    tool_calls: int = 0
    tool_call_rate: float = 0.0
    # The tool-call decision against the original run: same, a call added, a call dropped.
    decision_same: int = 0
    decision_added: int = 0
    decision_dropped: int = 0
    grounding: dict[str, int] = field(default_factory=dict)
    similarity_mean: float | None = None
    similarity_count: int = 0
    safeguards: dict[str, int] = field(default_factory=dict)
    not_recorded: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal("0")
    latency_p50_ms: int | None = None
    latency_p95_ms: int | None = None


@dataclass
class Report:
    run_id: int
    total: int
    done: int
    sides: list[SideSummary]
    # Between the two configurations (None with one): per item, who called a tool.
    both_called: int | None = None
    only_a_called: int | None = None
    only_b_called: int | None = None
    neither_called: int | None = None
    same_text: int | None = None


def percentile(values: list[int], q: float) -> int | None:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _summary(
    side: str, config: ReplayConfiguration, pairs: list[tuple[ReplayItem, ReplayResult]]
) -> SideSummary:
    summary = SideSummary(side=side, config=config.label, results=len(pairs))
    similarities = [r.similarity for _, r in pairs if r.similarity is not None]
    for item, result in pairs:
        called = result.tool_calls_count > 0
        called_before = item.source_trace.tool_calls_count > 0
        summary.called_tools += called
        summary.tool_calls += result.tool_calls_count
        summary.decision_same += called == called_before
        summary.decision_added += called and not called_before
        summary.decision_dropped += called_before and not called
        summary.not_recorded += result.not_recorded
        summary.tokens_in += result.tokens_in
        summary.tokens_out += result.tokens_out
        summary.cost += result.cost
    summary.outcomes = dict(sorted(Counter(r.outcome for _, r in pairs).items()))
    summary.grounding = dict(sorted(Counter(r.grounding or "none" for _, r in pairs).items()))
    summary.safeguards = dict(
        sorted(Counter(name for _, r in pairs for name in r.safeguards).items())
    )
    if pairs:
        summary.tool_call_rate = summary.called_tools / len(pairs)
    if similarities:
        summary.similarity_mean = sum(similarities) / len(similarities)
        summary.similarity_count = len(similarities)
    latencies = [r.latency_ms for _, r in pairs]
    summary.latency_p50_ms = percentile(latencies, 0.5)
    summary.latency_p95_ms = percentile(latencies, 0.95)
    return summary


def replay_report(run: ReplayRun, items: list[ReplayItem] | None = None) -> Report:
    """The run's figures per configuration, and how the two compare, over replayed items."""
    items = run_items(run) if items is None else items
    by_side: dict[str, list[tuple[ReplayItem, ReplayResult]]] = {"a": [], "b": []}
    for item in items:
        for result in item.results.all():
            by_side[result.side].append((item, result))
    configs = {"a": run.config_a, "b": run.config_b}
    report = Report(
        run_id=run.pk,
        total=run.total,
        done=run.done,
        sides=[_summary(side, config, by_side[side]) for side, config in configs.items() if config],
    )
    if run.config_b is not None:
        pairs = [
            (results[0], results[1])
            for results in (list(item.results.all()) for item in items)
            if len(results) == 2
        ]
        report.both_called = sum(
            a.tool_calls_count > 0 and b.tool_calls_count > 0 for a, b in pairs
        )
        report.only_a_called = sum(
            a.tool_calls_count > 0 and not b.tool_calls_count for a, b in pairs
        )
        report.only_b_called = sum(
            b.tool_calls_count > 0 and not a.tool_calls_count for a, b in pairs
        )
        report.neither_called = sum(
            not a.tool_calls_count and not b.tool_calls_count for a, b in pairs
        )
        report.same_text = sum(a.text == b.text for a, b in pairs)
    return report


def report_as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (cost as a string, so no precision is lost)."""
    data = asdict(report)
    for side in data["sides"]:
        side["cost"] = str(side["cost"])
    return data


def config_as_dict(config: ReplayConfiguration) -> dict[str, Any]:
    """Exactly what a configuration version sets, as JSON-ready data."""
    settings = {field: getattr(config, field) for field in ReplayConfiguration.SETTINGS}
    return {
        "label": config.label,
        "name": config.name,
        "version": config.version,
        **{k: str(v) if isinstance(v, Decimal) else v for k, v in settings.items()},
    }


def replay_document(run: ReplayRun) -> dict[str, Any]:
    """The whole run as one JSON-ready document: what ran, on what, the report, the rows."""
    items = run_items(run)
    return {
        "run": {
            "id": run.pk,
            "brand": run.brand.slug,
            "status": run.status,
            "total": run.total,
            "done": run.done,
            "filters": run.filters,
            "created_at": run.created_at.isoformat(),
        },
        "configs": {
            "a": config_as_dict(run.config_a),
            "b": config_as_dict(run.config_b) if run.config_b else None,
        },
        "report": report_as_dict(replay_report(run, items)),
        "items": export_rows(run, items),
    }


EXPORT_FIELDS = (
    "run",
    "item",
    "ticket",
    "source_trace",
    "side",
    "config",
    "outcome",
    "error_code",
    "grounding",
    "original_tool_calls",
    "tool_calls",
    "tools_used",
    "safeguards",
    "not_recorded",
    "similarity",
    "tokens_in",
    "tokens_out",
    "cost",
    "latency_ms",
    "text",
    "sent_text",
)


def export_rows(run: ReplayRun, items: list[ReplayItem] | None = None) -> list[dict[str, Any]]:
    """One flat row per item and configuration, for CSV and JSON export."""
    items = run_items(run) if items is None else items
    labels = {c.pk: c.label for c in run.configs}
    return [
        {
            "run": run.pk,
            "item": item.seq,
            "ticket": item.ticket_id,
            "source_trace": item.source_trace_id,
            "side": result.side,
            "config": labels.get(result.config_id, ""),
            "outcome": result.outcome,
            "error_code": result.error_code,
            "grounding": result.grounding,
            "original_tool_calls": item.source_trace.tool_calls_count,
            "tool_calls": result.tool_calls_count,
            "tools_used": " ".join(result.tools_used),
            "safeguards": " ".join(result.safeguards),
            "not_recorded": result.not_recorded,
            "similarity": None if result.similarity is None else round(result.similarity, 4),
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "cost": str(result.cost),
            "latency_ms": result.latency_ms,
            "text": result.text,
            "sent_text": item.sent_text,
        }
        for item in items
        for result in item.results.all()
    ]
