"""Thin views of the audit pages: review queue, trace list, trace review, metrics, exports.

Every page is for leads and admins of the brand(s) concerned; anyone else gets a 404.
"""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audit import selectors, services
from audit.forms import MetricsForm, ReviewForm, TraceFilterForm
from audit.selectors import FINDING_COLUMNS, FINDING_METRIC, METRIC_COLUMNS, Cursor
from copilot.access import access_brand
from copilot.htmx import AuthenticatedHttpRequest
from orders.quality import FINDING_CODES, TITLES


def _trace_list_page(request: AuthenticatedHttpRequest, *, queue: bool) -> HttpResponse:
    brands = selectors.lead_brands(request.user)
    form = TraceFilterForm(request.GET, brands=brands, fixed_sensitive=queue)
    if not form.is_valid():
        form = TraceFilterForm({}, brands=brands, fixed_sensitive=queue)
        form.is_valid()
    after = Cursor.decode(request.GET.get("after", ""))
    page = selectors.trace_list(form.filters(sensitive=True if queue else None), after=after)
    more = request.GET.copy()
    if page.next_cursor is not None:
        more["after"] = page.next_cursor.encode()
    context = {
        "queue": queue,
        "form": form,
        "page": page,
        "more_query": more.urlencode(),
        "multi_brand": len(brands) > 1,
        # Row links as prefix + id: one reverse() per page instead of one per row.
        "trace_url": reverse("audit_traces"),
        "brands": brands,
    }
    template = "audit/traces.html"
    if request.htmx and request.htmx.target == "trace-rows":
        template += "#trace-rows"
    return render(request, template, context)


@login_required
@require_GET
def review_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The sensitive traces of the lead's brands, newest first."""
    return _trace_list_page(request, queue=True)


@login_required
@require_GET
def trace_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every trace of the lead's brands, filtered."""
    return _trace_list_page(request, queue=False)


@login_required
@require_GET
def trace_detail(request: AuthenticatedHttpRequest, trace_id: int) -> HttpResponse:
    """One trace, for any member of its brand: the agent's link from the draft panel."""
    trace = selectors.access_trace(request.user, trace_id)
    return render(request, "audit/trace.html", {"trace": trace, "ticket": trace.ticket})


def _trace_page(
    request: AuthenticatedHttpRequest,
    trace_id: int,
    *,
    form: ReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    trace = selectors.access_trace_for_lead(request.user, trace_id)
    policy = selectors.policy_for(trace.brand)
    context = {
        "trace": trace,
        "ticket": trace.ticket,
        "form": form or ReviewForm(),
        "held": trace.sensitive and policy.hold_sensitive_drafts and not trace.draft.decision,
        "approval": selectors.approval_for(trace),
    }
    template = "audit/review.html"
    if request.htmx and request.htmx.target == "review-panel":
        template += "#review-panel"
    return render(request, template, context, status=status)


@login_required
@require_GET
def trace_review(request: AuthenticatedHttpRequest, trace_id: int) -> HttpResponse:
    return _trace_page(request, trace_id)


@login_required
@require_POST
def review_create(request: AuthenticatedHttpRequest, trace_id: int) -> HttpResponse:
    trace = selectors.access_trace_for_lead(request.user, trace_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _trace_page(request, trace_id, form=form, status=400)
    services.review_submit(
        trace=trace,
        user=request.user,
        verdict=form.cleaned_data["verdict"],
        note=form.cleaned_data["note"],
    )
    if request.htmx:
        return _trace_page(request, trace_id)
    return redirect("audit_trace", trace_id=trace_id)


@login_required
@require_POST
def draft_approve(request: AuthenticatedHttpRequest, trace_id: int) -> HttpResponse:
    trace = selectors.access_trace_for_lead(request.user, trace_id)
    services.draft_approve(trace=trace, user=request.user)
    if request.htmx:
        return _trace_page(request, trace_id)
    return redirect("audit_trace", trace_id=trace_id)


def _metrics(request: AuthenticatedHttpRequest, slug: str) -> selectors.BrandMetrics:
    membership = access_brand(request.user, slug, role="lead")
    start, end = MetricsForm(request.GET).period(timezone.now().date())
    return selectors.brand_metrics(membership.brand, start=start, end=end)


@login_required
@require_GET
def metrics(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Per arm and day figures for one brand from the rollup, charts and the A/B report."""
    data = _metrics(request, slug)
    arm_rows = {arm: metrics.as_row() for arm, metrics in data.arms.items()}
    return render(
        request,
        "audit/metrics.html",
        {
            "m": data,
            "brand": data.brand,
            "totals": [
                (metric, [(arm, *_cell(metric, row[metric])) for arm, row in arm_rows.items()])
                for metric in METRIC_COLUMNS
            ],
            "arms": list(arm_rows),
            "columns": METRIC_COLUMNS,
            # Cells are (metric, data value, shown text), prepared here: the page has
            # thousands of them and template filters per cell would dominate its time.
            "day_rows": [
                (
                    r.day.isoformat(),
                    r.arm,
                    [
                        (metric, *_cell(metric, value))
                        for metric, value in r.metrics.as_row().items()
                    ],
                )
                for r in data.days
            ],
            "finding_rows": [
                (
                    FINDING_METRIC + code,
                    TITLES[code],
                    [(arm, metrics.findings.get(code, 0)) for arm, metrics in data.arms.items()],
                )
                for code in FINDING_CODES
            ],
            "chart": _decision_chart(data),
            "days": (data.end - data.start).days + 1,
            "brands": selectors.lead_brands(request.user),
        },
    )


RATE_METRICS = frozenset({"acceptance_rate", "tool_call_rate"})


def _cell(metric: str, value: object) -> tuple[str, str]:
    """A metric value as (exact text for data-value, text a lead reads): rates in percent,
    missing values as a dash."""
    if value is None:
        return "", "\u2013"  # en dash
    if metric in RATE_METRICS and isinstance(value, float | int):  # rates are float | None
        return str(value), f"{value * 100:.1f} %"
    if metric in {"latency_p50_ms", "latency_p95_ms"} and value == -1:
        return str(value), "> 120000"
    return str(value), str(value)


def _decision_chart(data: selectors.BrandMetrics) -> dict[str, object]:
    """Geometry of the stacked bars (accepted / edited / rejected / undecided) per day and
    arm; the template draws it as inline SVG, no script."""
    width, height, gap = 14, 160, 4
    columns = list(reversed(data.days))
    peak = max((r.metrics.drafts for r in columns), default=0) or 1
    bars = []
    for index, row in enumerate(columns):
        y = height
        parts = []
        for name in ("accepted", "edited", "rejected", "undecided"):
            value = getattr(row.metrics, name)
            h = round(value * height / peak, 2)
            y -= h
            parts.append({"name": name, "value": value, "y": round(y, 2), "h": h})
        bars.append(
            {"x": index * (width + gap), "w": width, "day": row.day, "arm": row.arm, "parts": parts}
        )
    return {"bars": bars, "width": max(len(columns) * (width + gap), 1), "height": height}


@login_required
@require_GET
def metrics_export(
    request: AuthenticatedHttpRequest, slug: str, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    """The metrics rows (per day and arm, then totals per arm) as CSV or JSON Lines."""
    data = _metrics(request, slug)
    rows = data.export_rows()
    name = f"metrics-{data.brand.slug}-{data.start}-{data.end}.{fmt}"
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.DictWriter(
            response, fieldnames=["brand", "day", "arm", *METRIC_COLUMNS, *FINDING_COLUMNS]
        )
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    else:
        response = StreamingHttpResponse(
            (json.dumps(row) + "\n" for row in rows), content_type="application/x-ndjson"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
