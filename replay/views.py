"""Thin views of the leads' replay page: configurations, runs, progress, comparison, export."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from copilot.access import access_brand
from copilot.celery import has_workers
from copilot.htmx import AuthenticatedHttpRequest
from copilot.models import Role
from replay import selectors, services
from replay.exceptions import ReplayError
from replay.forms import ReplayConfigForm, ReplayStartForm
from replay.models import ReplayConfiguration, ReplayRun

ITEMS_SHOWN = 200


@login_required
@require_http_methods(["GET", "POST"])
def replay_home(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Configurations, recent runs, and the form that starts a run."""
    brand = access_brand(request.user, slug, role=Role.LEAD).brand
    form = ReplayStartForm(request.POST or None, brand=brand)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = services.replay_start(
                    brand=brand,
                    config_a=form.cleaned_data["config_a"],
                    config_b=form.cleaned_data["config_b"],
                    filters=form.filters(),
                    user=request.user,
                )
            except ReplayError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("replay:run", slug=slug, run_id=run.pk)
        status = 400
    context = {
        "brand": brand,
        "form": form,
        "configs": selectors.configs_latest(brand),
        "runs": selectors.runs_for_brand(brand),
    }
    return render(request, "replay/home.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def config_edit(
    request: AuthenticatedHttpRequest, slug: str, name: str | None = None
) -> HttpResponse:
    """Create a configuration, or save a change to one as its next version."""
    brand = access_brand(request.user, slug, role=Role.LEAD).brand
    versions = selectors.config_versions(brand, name) if name else []
    if name and not versions:
        raise Http404("No such configuration.")
    latest = versions[0] if versions else None
    initial = (
        {field: getattr(latest, field) for field in ReplayConfiguration.SETTINGS} if latest else {}
    )
    form = ReplayConfigForm(request.POST or None, initial=initial, fixed_name=name)
    if request.method == "POST" and form.is_valid():
        config = services.replay_config_save(
            brand=brand,
            name=name or form.cleaned_data["name"],
            values=form.values(),
            user=request.user,
        )
        messages.success(request, f"Saved {config.label}.")
        return redirect("replay:home", slug=slug)
    return render(
        request,
        "replay/config.html",
        {"brand": brand, "form": form, "name": name, "versions": versions},
        status=400 if form.errors else 200,
    )


def _run_context(run: ReplayRun) -> dict[str, object]:
    context: dict[str, object] = {
        "run": run,
        "brand": run.brand,
        "advance_on_poll": not has_workers(),
    }
    if run.status == ReplayRun.Status.DONE:
        items = selectors.run_items(run)
        context["report"] = selectors.replay_report(run, items)
        context["items"] = items[:ITEMS_SHOWN]
        context["items_hidden"] = max(0, len(items) - ITEMS_SHOWN)
    return context


@login_required
@require_GET
def run_detail(request: AuthenticatedHttpRequest, slug: str, run_id: int) -> HttpResponse:
    run = selectors.access_replay_run(request.user, slug, run_id)
    return render(request, "replay/run.html", _run_context(run))


@login_required
@require_http_methods(["GET", "POST"])
def run_progress(request: AuthenticatedHttpRequest, slug: str, run_id: int) -> HttpResponse:
    """The run's progress region. Without a worker (embedded mode) each POST of the poll
    replays the next chunk first: the poll is what moves the run, a chunk per second."""
    run = selectors.access_replay_run(request.user, slug, run_id)
    if request.method == "POST" and run.status == ReplayRun.Status.RUNNING and not has_workers():
        services.replay_advance(run_id=run.pk)
        run = selectors.access_replay_run(request.user, slug, run_id)  # with its relations
    return render(request, "replay/run.html#run-body", _run_context(run))


@login_required
@require_GET
def item_detail(
    request: AuthenticatedHttpRequest, slug: str, run_id: int, item_id: int
) -> HttpResponse:
    """One ticket's two results side by side, with the original run and what was sent."""
    run = selectors.access_replay_run(request.user, slug, run_id)
    item = selectors.access_replay_item(run, item_id)
    return render(
        request,
        "replay/item.html",
        {"run": run, "brand": run.brand, "item": item, "results": list(item.results.all())},
    )


@login_required
@require_GET
def run_export(request: AuthenticatedHttpRequest, slug: str, run_id: int, fmt: str) -> HttpResponse:
    """The run as CSV (one row per ticket and configuration) or JSON (report and rows)."""
    run = selectors.access_replay_run(request.user, slug, run_id)
    filename = f"replay-{run.pk}.{fmt}"
    if fmt == "json":
        response: HttpResponse = JsonResponse(selectors.replay_document(run))
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.DictWriter(response, fieldnames=selectors.EXPORT_FIELDS)
        writer.writeheader()
        writer.writerows(selectors.export_rows(run))
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
