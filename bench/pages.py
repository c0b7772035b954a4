"""Server-side latency of the inbox and the ticket workspace on PostgreSQL, 10,000 tickets.

Runs the real views in-process through Django's test client (URL routing, middleware,
selectors, templates; no network or browser), against its own database
(BENCH_PAGES_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/copilot_bench_pages),
created and seeded on first run. Prints p50 / p95 per page and ends with one JSON line.
Goal: p95 <= 40 ms for every page.

    .venv/bin/python bench/pages.py [--requests 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_PAGES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/copilot_bench_pages"
)
TICKETS = 10_000
GOAL_P95_MS = 40.0
BRAND_SLUG = "bench-pages"


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist yet."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "DJANGO_SETTINGS_MODULE": "copilot.settings",
            "SECRET_KEY": "bench-pages-key",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DEBUG", None)  # no query log, production-like templates
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> None:
    """10,000 tickets with a message and a draft each; ready drafts carry a 5-span trace."""
    from django.db import transaction
    from django.utils import timezone

    from audit.models import Span, Trace
    from copilot.models import Brand, Customer, Draft, Message, Ticket

    brand, _ = Brand.objects.get_or_create(slug=BRAND_SLUG, defaults={"name": "Bench Pages"})
    have = Ticket.objects.filter(brand=brand).count()
    if have >= TICKETS:
        return
    print(f"seeding {TICKETS - have} tickets...", flush=True)
    rng = random.Random(7)
    now = timezone.now()
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            Customer(
                brand=brand,
                external_id=f"bench-c{i}",
                email=f"customer{i}@example.com",
                email_verified=i % 3 != 0,
                name=f"Customer {i}",
            )
            for i in range(have, have + 1000)
        )
        tickets = Ticket.objects.bulk_create(
            (
                Ticket(
                    brand=brand,
                    customer=customers[i % len(customers)],
                    external_id=f"bench-t{i}",
                    subject=rng.choice(
                        ["Where is my order?", "Return label", "Wrong size", "Refund please"]
                    )
                    + f" #{i}",
                )
                for i in range(have, TICKETS)
            ),
            batch_size=2000,
        )
        Message.objects.bulk_create(
            (
                Message(ticket=t, body=f"Hello, my order BR-{t.pk} has not arrived. Any news?")
                for t in tickets
            ),
            batch_size=2000,
        )
        states = [("ready", ""), ("ready", "accepted"), ("ready", "edited"), ("pending", "")]
        drafts = Draft.objects.bulk_create(
            (
                Draft(
                    ticket=t,
                    status=(state := rng.choice(states))[0],
                    decision=state[1],
                    body="Hello,\n\nYour order is on its way with DHL: tracking JD0042.\n\nThe team",
                )
                for t in tickets
            ),
            batch_size=2000,
        )
        ready = [d for d in drafts if d.status == "ready"]
        traces = Trace.objects.bulk_create(
            (
                Trace(
                    brand=brand,
                    ticket_id=d.ticket_id,
                    draft=d,
                    provider="rules",
                    model="rules-v1",
                    prompt_version="v1",
                    plan={"stage": "on", "arm": "treatment", "available_tools": ["fetch_orders"]},
                    outcome="answered",
                    iterations=2,
                    tool_calls_count=1,
                    tools_used=["fetch_orders"],
                    latency_ms=240,
                    grounding="grounded",
                    sensitive=rng.random() < 0.05,
                )
                for d in ready
            ),
            batch_size=2000,
        )
        order = {"number": "BR-1", "status": "in_transit", "shipments": [{"carrier": "DHL"}]}
        Span.objects.bulk_create(
            (
                Span(
                    trace=trace,
                    seq=seq,
                    kind=kind,
                    name=name,
                    arguments={"order_number": "BR-1"} if kind == "tool" else {},
                    result={"orders": [order]} if kind == "tool" else {"text": "..."},
                    attributes={"source": "Demo store", "read_at": now.isoformat()},
                    started_at=now - dt.timedelta(seconds=1),
                    duration_ms=40,
                )
                for trace in traces
                for seq, (kind, name) in enumerate(
                    [
                        ("llm", "chat"),
                        ("tool", "fetch_orders"),
                        ("llm", "chat"),
                        ("guardrail", "repeated_call"),
                        ("guardrail", "grounding_check"),
                    ],
                    start=1,
                )
            ),
            batch_size=5000,
        )
    call_analyze()


def call_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def agent_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    from copilot.models import Brand, Membership

    brand = Brand.objects.get(slug=BRAND_SLUG)
    user, _ = get_user_model().objects.get_or_create(username="bench-pages-agent")
    Membership.objects.get_or_create(user=user, brand=brand)
    client = Client()
    client.force_login(user)
    return client, brand


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "max": round(max(samples), 2)}


def measure(client, pages: dict[str, tuple[list[str], dict[str, str]]], requests: int):
    """GET each page `requests` times, round-robin so that load from anything else on the
    machine hits every page alike; p50 / p95 / max in milliseconds per page."""
    for urls, headers in pages.values():  # warm templates, caches and the connection pool
        for url in urls[:5]:
            assert client.get(url, **headers).status_code == 200, url
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for i in range(requests):
        for name, (urls, headers) in pages.items():
            url = urls[i % len(urls)]
            started = time.perf_counter()
            response = client.get(url, **headers)
            samples[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
    return {name: percentiles(values) for name, values in samples.items()}


def time_calls(call, requests: int) -> dict[str, float]:
    """Time `requests` calls of `call`; p50 / p95 / max in milliseconds."""
    call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    setup_django()
    seed()
    from copilot.models import Ticket

    client, brand = agent_client()
    ids = list(Ticket.objects.filter(brand=brand).order_by("-id").values_list("id", flat=True))
    rng = random.Random(11)
    inbox = f"/b/{brand.slug}/"
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "inbox-rows"}
    pages = {
        "inbox": ([inbox], {}),
        "inbox_ready": ([inbox + "?status=ready"], {}),
        "inbox_needs_review": ([inbox + "?review=1"], {}),
        "inbox_search": ([inbox + "?q=refund", inbox + "?q=customer12", inbox + "?q=BR-77"], {}),
        "inbox_deep_page": (
            [f"{inbox}?before={ids[len(ids) // 2]}", f"{inbox}?before={ids[-60]}"],
            {},
        ),
        "inbox_poll": ([inbox + "?poll=4&stamp=x"], poll),
        "workspace": ([f"/tickets/{pk}/" for pk in rng.sample(ids, 100)], {}),
    }
    results = measure(client, pages, args.requests)

    # The counts are cached for a few seconds; this is what a cache miss costs on top.
    from copilot.selectors import inbox_counts_uncached

    results["counts_cache_miss"] = time_calls(lambda: inbox_counts_uncached(brand), args.requests)

    print(f"tickets: {len(ids)}  requests per page: {args.requests}  goal p95 <= {GOAL_P95_MS} ms")
    print(f"{'page':<22}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  goal")
    for name, figures in results.items():
        ok = "ok" if figures["p95"] <= GOAL_P95_MS else "MISSED"
        print(f"{name:<22}{figures['p50']:>10}{figures['p95']:>10}{figures['max']:>10}  {ok}")
    print(
        json.dumps({"bench": "pages", "tickets": len(ids), "goal_p95_ms": GOAL_P95_MS, **results})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
