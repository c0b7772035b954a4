"""Reads of the audit app: who may audit, the trace lists, the metrics and the A/B report.

Leads and admins audit their own brands only; anything else is a 404 so ids do not leak.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from audit import stats
from audit.models import (
    CONTROL,
    ROLLUP_COUNTERS,
    ROLLUP_HISTOGRAMS,
    TREATMENT,
    Approval,
    AuditPolicy,
    DailyRollup,
    DraftEditDistance,
    Review,
    Span,
    Trace,
    Verdict,
)
from copilot.access import user_brand_ids
from copilot.celery import has_workers
from copilot.models import Brand, Draft, Membership, Role, Ticket, roles_at_least
from orders.quality import FINDING_CODES

TRACE_FIELDS = (
    "id",
    "ticket_id",
    "draft_id",
    "brand_id",
    "provider",
    "model",
    "prompt_version",
    "plan",
    "arm",
    "outcome",
    "iterations",
    "tool_calls_count",
    "tools_used",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "error_code",
    "grounding",
    "sensitive",
    "sensitive_reasons",
)
SPAN_FIELDS = (
    "seq",
    "kind",
    "name",
    "arguments",
    "result",
    "status",
    "error",
    "attributes",
    "duration_ms",
)
LEAD_ROLES = roles_at_least(Role.LEAD)
# A metric counting the drafts whose order data had one finding (exported, and shown in
# words on the metrics page): this prefix, then the finding's code.
FINDING_METRIC = "findings_"
PAGE_SIZE = 25  # a review queue is read a screen at a time; the page renders in a few ms
# Below this many decided drafts in either arm the A/B report says "not enough data yet".
MIN_DECIDED_PER_ARM = 30


def tokens_used_today(brand: Brand) -> int:
    """Model tokens (in + out) the brand's runs have recorded since local midnight."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    totals = Trace.objects.filter(brand=brand, created_at__gte=midnight).aggregate(
        tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out")
    )
    return (totals["tokens_in"] or 0) + (totals["tokens_out"] or 0)


def trace_as_dict(trace: Trace) -> dict[str, Any]:
    """A trace and its spans as plain JSON-ready data."""
    data: dict[str, Any] = {field: getattr(trace, field) for field in TRACE_FIELDS}
    data["created_at"] = trace.created_at.isoformat()
    data["cost"] = str(trace.cost)
    data["spans"] = [
        {
            **{field: getattr(span, field) for field in SPAN_FIELDS},
            "started_at": span.started_at.isoformat(),
        }
        for span in trace.spans.order_by("seq")
    ]
    return data


# --- access ------------------------------------------------------------------------------------


def policy_for(brand: Brand) -> AuditPolicy:
    """The brand's audit policy, or the defaults (unsaved) when it never set one.

    No query when `brand` was read with `select_related("audit_policy")`.
    """
    try:
        return brand.audit_policy
    except AuditPolicy.DoesNotExist:
        return AuditPolicy(brand=brand)


def is_lead_of(user: User, brand_id: int) -> bool:
    return Membership.objects.filter(user=user, brand_id=brand_id, role__in=LEAD_ROLES).exists()


def lead_brands(user: User) -> list[Brand]:
    """The brands `user` audits (lead or admin), by name; 404 when there are none."""
    brands = list(
        Brand.objects.filter(memberships__user=user, memberships__role__in=LEAD_ROLES).order_by(
            "name"
        )
    )
    if not brands:
        raise Http404("Nothing to audit.")
    return brands


def access_trace(user: User, trace_id: int, *, role: str = Role.AGENT) -> Trace:
    """Trace `trace_id` with its spans, for a member of its brand with at least `role`."""
    trace = (
        Trace.objects.select_related("brand", "ticket", "draft")
        .prefetch_related(Prefetch("spans", queryset=Span.objects.order_by("seq")))
        .filter(pk=trace_id, brand_id__in=user_brand_ids(user, role))
        .first()
    )
    if trace is None:
        raise Http404("No such trace.")
    return trace


def approval_for(trace: Trace) -> Approval | None:
    """The lead's approval of the trace's held draft, with who gave it; None if none yet."""
    return Approval.objects.filter(trace=trace).select_related("approved_by").first()


def access_trace_for_lead(user: User, trace_id: int) -> Trace:
    """Trace `trace_id` with its spans and reviews, for a lead or admin of its brand; else 404."""
    trace = access_trace(user, trace_id, role=Role.LEAD)
    prefetch_related_objects(
        [trace], Prefetch("reviews", queryset=Review.objects.select_related("reviewer"))
    )
    return trace


# --- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceFilters:
    """What a lead narrows a trace list to; empty values do not filter."""

    brand_ids: tuple[int, ...]
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    tool: str = ""  # "" any, "none" no tool call, or a tool name
    outcome: str = ""
    arm: str = ""
    verdict: str = ""  # "" any, "unreviewed", or a Verdict value
    sensitive: bool | None = None
    grounding: str = ""


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the (created_at, id) of the last row shown."""

    created_at: dt.datetime
    id: int

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor | None:
        moment, _, pk = raw.rpartition("_")
        try:
            created_at = dt.datetime.fromisoformat(moment)
        except ValueError:
            return None
        if not pk.isdigit() or created_at.tzinfo is None:
            return None
        return cls(created_at=created_at, id=int(pk))


@dataclass(frozen=True)
class TracePage:
    traces: list[Trace]
    next_cursor: Cursor | None


def _latest_verdict() -> Subquery:
    return Subquery(
        Review.objects.filter(trace=OuterRef("pk")).order_by("-id").values("verdict")[:1]
    )


def within_utc_days(
    traces: QuerySet[Trace], start: dt.date | None, end: dt.date | None
) -> QuerySet[Trace]:
    """`traces` created on the UTC days `start`..`end` (inclusive; either may be open), as
    the metrics count days; a range on created_at, so the index serves it."""
    if start:
        traces = traces.filter(created_at__gte=dt.datetime.combine(start, dt.time.min, dt.UTC))
    if end:
        day_after = dt.datetime.combine(end, dt.time.min, dt.UTC) + dt.timedelta(days=1)
        traces = traces.filter(created_at__lt=day_after)
    return traces


def called_tool(name: str) -> Exists:
    """Traces whose run called the tool `name`."""
    return Exists(Span.objects.filter(trace=OuterRef("pk"), kind=Span.Kind.TOOL, name=name))


def trace_list(
    filters: TraceFilters, *, after: Cursor | None = None, limit: int = PAGE_SIZE
) -> TracePage:
    """A page of traces matching `filters`, newest first, each annotated with its latest
    verdict; `next_cursor` continues after the last row (keyset, no OFFSET)."""
    # Subject and brand name come as subqueries, which PostgreSQL evaluates for the rows
    # of the page only, after the sort and limit; joins would run for every match.
    traces: QuerySet[Trace] = (
        Trace.objects.filter(brand_id__in=filters.brand_ids)
        .only(
            "id",
            "brand_id",
            "ticket_id",
            "created_at",
            "arm",
            "outcome",
            "tools_used",
            "tool_calls_count",
            "grounding",
            "sensitive",
            "sensitive_reasons",
            "latency_ms",
        )
        .annotate(
            verdict=_latest_verdict(),
            subject=Subquery(Ticket.objects.filter(pk=OuterRef("ticket_id")).values("subject")),
            brand_name=Subquery(Brand.objects.filter(pk=OuterRef("brand_id")).values("name")),
        )
        .order_by("-created_at", "-id")
    )
    traces = within_utc_days(traces, filters.date_from, filters.date_to)
    if filters.tool == "none":
        traces = traces.filter(tool_calls_count=0)
    elif filters.tool:
        traces = traces.filter(called_tool(filters.tool))
    if filters.outcome:
        traces = traces.filter(outcome=filters.outcome)
    if filters.arm:
        traces = traces.filter(arm=filters.arm)
    if filters.sensitive is not None:
        traces = traces.filter(sensitive=filters.sensitive)
    if filters.grounding:
        traces = traces.filter(grounding=filters.grounding)
    if filters.verdict == "unreviewed":
        traces = traces.filter(~Exists(Review.objects.filter(trace=OuterRef("pk"))))
    elif filters.verdict:
        # Start from the (few) reviews rather than test every trace's latest verdict.
        newer = Review.objects.filter(trace_id=OuterRef("trace_id"), pk__gt=OuterRef("pk"))
        latest = Review.objects.filter(verdict=filters.verdict).filter(~Exists(newer))
        traces = traces.filter(pk__in=latest.values("trace_id"))
    if after is not None:
        traces = traces.filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.id)
        )
    rows = list(traces[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return TracePage(
        traces=rows, next_cursor=Cursor(last.created_at, last.pk) if last is not None else None
    )


# --- metrics -----------------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class ArmMetrics:
    """The figures of one arm over some days, summed from rollup rows."""

    drafts: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    edit_distance_sum: float = 0.0
    with_tool_calls: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    safeguard_events: int = 0
    sensitive: int = 0
    reviewed: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    grounding: dict[str, int] = field(default_factory=dict)
    latency_histogram: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal(0)

    def add(self, row: DailyRollup) -> None:
        for name in ROLLUP_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(row, name))
        for name in ROLLUP_HISTOGRAMS:
            setattr(self, name, stats.merge_histograms([getattr(self, name), getattr(row, name)]))

    @property
    def decided(self) -> int:
        return self.accepted + self.edited + self.rejected

    @property
    def undecided(self) -> int:
        return self.drafts - self.decided

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted as is, over decided drafts."""
        return self.accepted / self.decided if self.decided else None

    @property
    def mean_edit_distance(self) -> float | None:
        return self.edit_distance_sum / self.edited if self.edited else None

    @property
    def tool_call_rate(self) -> float | None:
        """Drafts whose run called at least one tool, over drafts."""
        return self.with_tool_calls / self.drafts if self.drafts else None

    @property
    def unnecessary_calls(self) -> int:
        return self.verdicts.get(Verdict.UNNECESSARY_CALL, 0)

    @property
    def missed_calls(self) -> int:
        return self.verdicts.get(Verdict.MISSED_CALL, 0)

    @property
    def latency_p50(self) -> int | None:
        return stats.histogram_percentile(self.latency_histogram, 50)

    @property
    def latency_p95(self) -> int | None:
        return stats.histogram_percentile(self.latency_histogram, 95)

    def as_row(self) -> dict[str, Any]:
        """Every figure as plain data: what the page shows and the exports write."""
        return {
            "drafts": self.drafts,
            "accepted": self.accepted,
            "edited": self.edited,
            "rejected": self.rejected,
            "undecided": self.undecided,
            "acceptance_rate": _round(self.acceptance_rate),
            "mean_edit_distance": _round(self.mean_edit_distance),
            "with_tool_calls": self.with_tool_calls,
            "tool_call_rate": _round(self.tool_call_rate),
            "tool_calls": self.tool_calls,
            "unnecessary_calls": self.unnecessary_calls,
            "missed_calls": self.missed_calls,
            "tool_errors": self.tool_errors,
            "safeguard_events": self.safeguard_events,
            "grounded": self.grounding.get(Trace.Grounding.GROUNDED, 0),
            "generative": self.grounding.get(Trace.Grounding.GENERATIVE, 0),
            "unverified": self.grounding.get(Trace.Grounding.UNVERIFIED, 0),
            "sensitive": self.sensitive,
            "reviewed": self.reviewed,
            "latency_p50_ms": self.latency_p50,
            "latency_p95_ms": self.latency_p95,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": str(self.cost.quantize(Decimal("0.000001"))),
        }

    def finding_row(self) -> dict[str, int]:
        """Drafts whose order data had each finding, by metric name (`FINDING_COLUMNS`)."""
        return {FINDING_METRIC + code: self.findings.get(code, 0) for code in FINDING_CODES}


METRIC_COLUMNS = tuple(ArmMetrics().as_row())
FINDING_COLUMNS = tuple(ArmMetrics().finding_row())


@dataclass(frozen=True)
class ABReport:
    """Treatment vs control on the acceptance rate (accepted as is / decided drafts)."""

    treatment_accepted: int
    treatment_decided: int
    control_accepted: int
    control_decided: int
    min_decided: int
    difference: stats.Difference | None  # None: not enough data yet

    @property
    def enough_data(self) -> bool:
        return self.difference is not None


def experiment_report(
    treatment: ArmMetrics, control: ArmMetrics, *, min_decided: int = MIN_DECIDED_PER_ARM
) -> ABReport:
    """The acceptance-rate difference (treatment - control) with its 95 % Newcombe hybrid
    score interval, or no difference when either arm has fewer than `min_decided` decided
    drafts."""
    enough = min(treatment.decided, control.decided) >= min_decided
    return ABReport(
        treatment_accepted=treatment.accepted,
        treatment_decided=treatment.decided,
        control_accepted=control.accepted,
        control_decided=control.decided,
        min_decided=min_decided,
        difference=stats.newcombe_difference(
            treatment.accepted, treatment.decided, control.accepted, control.decided
        )
        if enough
        else None,
    )


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    arm: str
    metrics: ArmMetrics


@dataclass(frozen=True)
class BrandMetrics:
    brand: Brand
    start: dt.date
    end: dt.date
    arms: dict[str, ArmMetrics]  # sorted by arm name, plus "all"
    days: list[DayRow]  # newest first, then by arm
    report: ABReport

    def export_rows(self) -> list[dict[str, Any]]:
        """One row per day and arm, then one total per arm ("day": "all"), as exported."""
        rows = [
            {"brand": self.brand.slug, "day": r.day.isoformat(), "arm": r.arm, **_export(r.metrics)}
            for r in self.days
        ]
        rows += [
            {"brand": self.brand.slug, "day": "all", "arm": arm, **_export(metrics)}
            for arm, metrics in self.arms.items()
        ]
        return rows


def _export(metrics: ArmMetrics) -> dict[str, Any]:
    return {**metrics.as_row(), **metrics.finding_row()}


# --- the daily rollup -----------------------------------------------------------------------


@dataclass(frozen=True)
class ComputedRollup:
    rows: list[DailyRollup]
    new_distances: list[DraftEditDistance]


def edit_distances(draft_ids: list[int]) -> tuple[dict[int, float], list[DraftEditDistance]]:
    """Normalized edit distance (draft body -> sent text) of each edited draft: the stored
    value where there is one, else computed now and returned as an unsaved row to store."""
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
    known.update((m.draft_id, m.distance) for m in missing)
    return known, missing


def touched_days(after: dt.datetime | None, *, brand_id: int | None = None) -> set[tuple]:
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


def rollup_compute(*, brand_id: int, day: dt.date) -> ComputedRollup:
    """The rollup rows (one per arm, unsaved) of `brand_id` for the UTC `day`, from its
    traces, spans, decisions and latest verdicts. Reads only: the edit distances it had to
    compute come back unsaved too, for `audit.services.rollup_refresh` to store."""
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
    distances, new_distances = edit_distances(
        [t[2] for t in traces if t[3] == Draft.Decision.EDITED]
    )

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
                brand_id=brand_id,
                day=day,
                arm=arm,
                verdicts={},
                grounding={},
                findings={},
                cost=Decimal(0),
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
        arm_row = rows.get(arm or "unknown")
        if arm_row is None:
            continue
        if kind == Span.Kind.TOOL and status == Span.Status.ERROR:
            arm_row.tool_errors += n
        elif kind == Span.Kind.GUARDRAIL and status == Span.Status.BLOCKED:
            arm_row.safeguard_events += n
    for arm, codes in _findings_per_trace(brand_id, in_trace_day).values():
        found = rows.get(arm or "unknown")
        if found is None:
            continue
        for code in codes:
            found.findings[code] = found.findings.get(code, 0) + 1
    now = timezone.now()
    for arm, row in rows.items():
        row.latency_histogram = stats.histogram(latencies[arm])
        row.updated_at = now
    return ComputedRollup(rows=list(rows.values()), new_distances=new_distances)


def _findings_per_trace(
    brand_id: int, in_trace_day: dict[str, Any]
) -> dict[int, tuple[str, set[str]]]:
    """trace id -> (arm, the finding codes its tool calls saw, each once), from the
    `findings` attribute `fetch_orders` puts on its spans."""
    seen: dict[int, tuple[str, set[str]]] = {}
    for trace_id, arm, codes in (
        Span.objects.filter(
            trace__brand_id=brand_id, kind=Span.Kind.TOOL, attributes__has_key="findings"
        )
        .filter(**in_trace_day)
        .values_list("trace_id", "trace__arm", "attributes__findings")
    ):
        if isinstance(codes, list) and codes:
            seen.setdefault(trace_id, (arm, set()))[1].update(map(str, codes))
    return seen


# A trace committed while a refresh of its day was reading is newer than nothing the refresh
# saw, yet older than the refresh's timestamp: the live days start this much earlier.
ROLLUP_STALE_OVERLAP = dt.timedelta(minutes=1)


def _rollup_rows(brand: Brand, *, start: dt.date, end: dt.date) -> list[DailyRollup]:
    """The brand's rollup rows for `start`..`end`. With workers they keep the rollup current;
    without (embedded mode) the days changed since it was last written are computed live
    here instead of on write, and nothing is written: reading the metrics is a read."""
    stored = list(
        DailyRollup.objects.filter(brand=brand, day__gte=start, day__lte=end).order_by("day", "arm")
    )
    if has_workers():
        return stored
    last_written = max((row.updated_at for row in stored), default=None) or (
        DailyRollup.objects.filter(brand=brand)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    changed = {
        day
        for _, day in touched_days(
            last_written and last_written - ROLLUP_STALE_OVERLAP, brand_id=brand.pk
        )
        if start <= day <= end
    }
    live = [
        row for day in sorted(changed) for row in rollup_compute(brand_id=brand.pk, day=day).rows
    ]
    return sorted(
        [row for row in stored if row.day not in changed] + live, key=lambda r: (r.day, r.arm)
    )


def brand_metrics(brand: Brand, *, start: dt.date, end: dt.date) -> BrandMetrics:
    """The brand's figures for the UTC days `start`..`end` (inclusive), from the rollup
    (one query when it is current), per arm, per day and arm, and the A/B report."""
    arms: dict[str, ArmMetrics] = {}
    days: list[DayRow] = []
    total = ArmMetrics()
    for row in sorted(_rollup_rows(brand, start=start, end=end), key=lambda r: r.day, reverse=True):
        day_metrics = ArmMetrics()
        day_metrics.add(row)
        days.append(DayRow(day=row.day, arm=row.arm, metrics=day_metrics))
        arms.setdefault(row.arm, ArmMetrics()).add(row)
        total.add(row)
    arms = dict(sorted(arms.items()))
    report = experiment_report(arms.get(TREATMENT, ArmMetrics()), arms.get(CONTROL, ArmMetrics()))
    return BrandMetrics(
        brand=brand, start=start, end=end, arms={**arms, "all": total}, days=days, report=report
    )
