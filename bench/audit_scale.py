"""Audit at scale: 1,000,000 traces and their spans in PostgreSQL, then server-side timings
of the review queue, a filtered trace list and the 30-day metrics page.

Runs against its own database (dropped and re-created), never the app's:
    .venv/bin/python bench/audit_scale.py [--traces 1000000] [--runs 40]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/copilot_bench_audit (default)

Rows are generated inside PostgreSQL with INSERT ... SELECT generate_series (no Python
round trips). 10 brands, 30 days, half the brands' customers in the treatment arm; the
lead under test audits 2 brands. Edit distances are inserted as stored values (production
computes each once, when the rollup first meets the decision). Pages are timed through
Django's test client (URL routing, middleware, session, views, templates), so the figures
are the server's time per request, without the network. Goals: p95 <= 50 ms for the lists,
<= 300 ms for the metrics page.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/copilot_bench_audit"
)
os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "copilot.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("DEBUG", None)  # DEBUG off: no query log, production-like timings

BRANDS = 10
DAYS = 30


def recreate_database() -> None:
    import psycopg

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def fill(n: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    from copilot.models import Brand, Membership, Role
    from tests.factories import UserFactory

    timings: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = time.perf_counter() - started

    brands = [Brand.objects.create(name=f"Bench {i}", slug=f"bench-{i}") for i in range(BRANDS)]
    lead = UserFactory(username="bench-lead")
    for brand in brands[:2]:
        Membership.objects.create(user=lead, brand=brand, role=Role.LEAD)
    first = brands[0].pk
    span_seconds = DAYS * 86400 / n
    steps = [
        (
            "tickets",
            f"""
            INSERT INTO copilot_ticket (brand_id, customer_id, external_id, subject, status,
                                        created_at, updated_at)
            SELECT {first} + g %% {BRANDS}, NULL, 'bench-' || g, 'Where is order ' || g || '?',
                   'open', t, t
            FROM generate_series(1, {n}) g,
                 LATERAL (SELECT now() - make_interval(secs => g * {span_seconds})) AS s(t)
            """,
        ),
        (
            "drafts",
            """
            INSERT INTO copilot_draft (ticket_id, status, status_reason, body, decision,
                final_text, reject_reason, decided_at, version, created_at, updated_at)
            SELECT id, 'ready', '', 'Hello, your order is on its way.',
                   CASE WHEN id %% 10 < 6 THEN 'accepted' WHEN id %% 10 < 8 THEN 'edited'
                        WHEN id %% 10 = 8 THEN 'rejected' ELSE '' END,
                   CASE WHEN id %% 10 < 6 THEN 'Hello, your order is on its way.'
                        WHEN id %% 10 < 8 THEN 'Hello, your parcel is on its way.' ELSE '' END,
                   '', CASE WHEN id %% 10 < 9 THEN created_at END, 1, created_at, created_at
            FROM copilot_ticket
            """,
        ),
        (
            "traces",
            """
            INSERT INTO audit_trace (brand_id, ticket_id, draft_id, created_at, provider, model,
                prompt_version, plan, arm, config, outcome, iterations, tool_calls_count,
                tools_used, tokens_in, tokens_out, cost, latency_ms, error_code, grounding,
                sensitive, sensitive_reasons)
            SELECT t.brand_id, t.id, d.id, t.created_at, 'rules', '', 'v1',
                   jsonb_build_object('arm', a.arm, 'stage', 'on', 'bucket', t.id %% 100,
                       'available_tools', CASE WHEN a.arm = 'treatment'
                           THEN '["fetch_orders"]'::jsonb ELSE '[]'::jsonb END),
                   a.arm, '{}'::jsonb,
                   CASE WHEN t.id %% 50 = 0 THEN 'failed' ELSE 'answered' END,
                   CASE WHEN a.arm = 'treatment' THEN 2 ELSE 1 END,
                   CASE WHEN a.arm = 'treatment' THEN 1 ELSE 0 END,
                   CASE WHEN a.arm = 'treatment' THEN '["fetch_orders"]'::jsonb
                        ELSE '[]'::jsonb END,
                   300 + t.id %% 200, 80 + t.id %% 50, 0.0004, 200 + (t.id * 7919) %% 2500,
                   CASE WHEN t.id %% 50 = 0 THEN 'provider_unavailable' ELSE '' END,
                   CASE WHEN a.arm = 'treatment' THEN 'grounded' ELSE 'generative' END,
                   t.id %% 20 = 0,
                   CASE WHEN t.id %% 20 = 0 THEN '["keyword:refund"]'::jsonb
                        ELSE '[]'::jsonb END
            FROM copilot_ticket t JOIN copilot_draft d ON d.ticket_id = t.id,
                 LATERAL (SELECT CASE WHEN t.id %% 4 < 2 THEN 'treatment'
                                      ELSE 'control' END) AS a(arm)
            """,
        ),
        (
            "spans",
            """
            INSERT INTO audit_span (trace_id, seq, kind, name, arguments, result, status, error,
                                    attributes, started_at, duration_ms)
            SELECT tr.id, s.seq,
                   CASE WHEN s.seq = 2 THEN 'tool' ELSE 'llm' END,
                   CASE WHEN s.seq = 2 THEN 'fetch_orders' ELSE 'chat' END,
                   '{}'::jsonb,
                   CASE WHEN s.seq = 2 THEN '{"orders": [{"number": "B-1", "status": "in_transit"}]}'::jsonb
                        ELSE '{"text": "Hello"}'::jsonb END,
                   CASE WHEN s.seq = 2 AND tr.id %% 40 = 0 THEN 'error' ELSE 'ok' END,
                   NULL, '{}'::jsonb, tr.created_at, 40
            FROM audit_trace tr
            CROSS JOIN LATERAL generate_series(1, CASE WHEN tr.arm = 'treatment' THEN 3 ELSE 1 END) AS s(seq)
            """,
        ),
        (
            "reviews",
            f"""
            INSERT INTO audit_review (trace_id, reviewer_id, verdict, note, created_at)
            SELECT id, {lead.pk},
                   (ARRAY['tool_helped','right_without_tool','unnecessary_call','missed_call',
                          'wrong_data','bad_answer'])[1 + (id / 20) %% 6], '', created_at
            FROM audit_trace WHERE sensitive AND id %% 3 = 0
            """,
        ),
        (
            "edit_distances",
            """
            INSERT INTO audit_drafteditdistance (draft_id, distance)
            SELECT id, 0.1875 FROM copilot_draft WHERE decision = 'edited'
            """,
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql, [])  # with params, psycopg reads %% as %
            timings[f"insert_{name}_s"] = time.perf_counter() - started
            print(f"  {name}: {cursor.rowcount:,} rows in {timings[f'insert_{name}_s']:.1f} s")
        started = time.perf_counter()
        cursor.execute("ANALYZE")
        timings["analyze_s"] = time.perf_counter() - started
    return timings


def backfill_rollup() -> float:
    import datetime as dt

    from django.utils import timezone

    from audit.services import rollup_refresh
    from copilot.models import Brand

    started = time.perf_counter()
    today = timezone.now().astimezone(dt.UTC).date()
    for brand_id in Brand.objects.values_list("pk", flat=True):
        for offset in range(DAYS + 1):
            rollup_refresh(brand_id=brand_id, day=today - dt.timedelta(days=offset))
    return time.perf_counter() - started


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def time_pages(runs: int) -> dict[str, dict[str, float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from audit.selectors import Cursor, TraceFilters, trace_list
    from copilot.models import Brand

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-lead"))
    brand = Brand.objects.get(slug="bench-0")
    second_page = trace_list(TraceFilters(brand_ids=(brand.pk,), sensitive=True)).next_cursor
    assert second_page is not None
    pages = {
        "review_queue": "/audit/queue/",
        "review_queue_page_2": f"/audit/queue/?brand=bench-0&after={second_page.encode()}",
        "filtered_list": "/audit/traces/?brand=bench-0&arm=treatment&tool=fetch_orders&outcome=answered&grounding=grounded",
        "filtered_list_verdict": "/audit/traces/?arm=treatment&verdict=unnecessary_call",
        "metrics_30_days": "/audit/b/bench-0/metrics/?days=30",
        "metrics_export_csv": "/audit/b/bench-0/metrics.csv?days=30",
    }
    assert Cursor.decode(second_page.encode()) == second_page
    results = {}
    for name, url in pages.items():
        for _ in range(3):  # warm caches and the connection pool
            assert client.get(url).status_code == 200, url
        samples, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        results[name] = {
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(_p95(samples), 1),
            "max_ms": round(max(samples), 1),
            # The app's own CPU per request: on a busy machine the wall time also counts
            # waiting for a core, which this leaves out (the database's time is in neither).
            "cpu_p95_ms": round(_p95(cpu), 1),
        }
        r = results[name]
        print(
            f"  {name:24} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms"
            f"  (app CPU p95 {r['cpu_p95_ms']:6.1f} ms)"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--reuse", action="store_true", help="Time the pages on the database a past run filled."
    )
    args = parser.parse_args()

    fill_timings: dict[str, float] = {}
    fill_s = rollup_s = 0.0
    if not args.reuse:
        recreate_database()
    import django

    django.setup()
    if not args.reuse:
        print(f"Filling {DATABASE_URL} with {args.traces:,} traces ...")
        started = time.perf_counter()
        fill_timings = fill(args.traces)
        fill_s = time.perf_counter() - started
        print(f"  filled in {fill_s:.1f} s")
        rollup_s = backfill_rollup()
        print(f"  rollup of {BRANDS} brands x {DAYS + 1} days rebuilt in {rollup_s:.1f} s")
    load = os.getloadavg()
    print(
        f"Server-side timings (Django test client, DEBUG off); load average {load[0]:.1f} on {os.cpu_count()} CPUs:"
    )
    pages = time_pages(args.runs)
    goals = {
        "lists_p95_ok": all(
            v["p95_ms"] <= 50 for k, v in pages.items() if k.startswith(("review", "filtered"))
        ),
        "metrics_p95_ok": pages["metrics_30_days"]["p95_ms"] <= 300,
    }
    print(
        f"Goals: lists p95 <= 50 ms: {goals['lists_p95_ok']}; metrics p95 <= 300 ms: {goals['metrics_p95_ok']}"
    )
    from audit.models import Span, Trace

    figures = {
        "bench": "audit_scale",
        "traces": Trace.objects.count(),
        "spans": Span.objects.count(),
        "fill_s": round(fill_s, 1),
        **{k: round(v, 1) for k, v in fill_timings.items()},
        "rollup_backfill_s": round(rollup_s, 1),
        "load_average_1m": round(load[0], 1),
        "cpus": os.cpu_count(),
        "pages": pages,
        **goals,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
