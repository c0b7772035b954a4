"""How much time does the app itself add to a draft, beyond waiting for the model?

Runs full where-is-my-order drafts (draft_request + draft_generate: plan, two model turns
through the real `openai` client, a `fetch_orders` call on the demo store, grounding,
trace written) against the local OpenAI-compatible server, first answering instantly,
then with an injected latency per model call. Prints, per database (SQLite, then
PostgreSQL when reachable):

- the app's own time per draft, p50 / p95 in ms (end-to-end minus injected latency);
- the app's CPU time per draft (p50), which a loaded machine disturbs less;
- the ratio of end-to-end time to injected latency at the chosen latency, beside how long
  a bare HTTP client waits past that latency for the same server (the machine's share of a
  slow call: waking up after a long wait costs milliseconds on a small virtual machine).

The machine's speed is printed too (a fixed pure-Python loop), because the own time is
mostly CPU: figures from two runs compare only as far as their machines do.

PostgreSQL runs twice: as configured (each commit waits for the server's WAL flush) and
with `synchronous_commit=off` on the bench database, which shows how much of the time is
the disk's rather than the app's. The goals are judged on the default configurations.

Goals: own time p50 <= 15 ms; ratio <= 1.02 at 1 s. Each database runs in its own
process (Django is set up once per process); the PostgreSQL bench database is created and
migrated by the script and dropped at the end.

    .venv/bin/python bench/draft_overhead.py [--drafts 60] [--latency 1.0]
        [--slow-drafts 8] [--pg-url postgres://postgres@127.0.0.1:5432/copilot_i3_bench]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/copilot_i3_bench"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def machine_reference_us() -> float:
    """Microseconds for a fixed pure-Python loop, best of five: lower is a faster machine."""
    number = 10_000
    return min(timeit.repeat("sum(range(1000))", number=number, repeat=5)) / number * 1e6


@contextlib.contextmanager
def model_server(latency: float) -> Iterator[str]:
    """The local OpenAI-compatible server in its own process, so that its work does not
    compete with the app for the GIL; yields its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.openai_server",
            "--latency",
            str(latency),
            "--arguments",
            json.dumps({"order_number": "BN-1001"}),
            "--answer",
            "Your order BN-1001 is on its way with DHL, tracking number JD555555.",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def measure(database_url: str, drafts: int, slow_drafts: int, latency: float) -> dict[str, Any]:
    """Inside a child process: set Django up on `database_url` and time drafts."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["DEBUG"] = "0"
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from copilot.models import Brand, Customer, Message, Ticket
    from copilot.services import draft_generate, draft_request
    from orders.models import DemoOrder, DemoShipment
    from rollout.flags import FETCH_ORDERS
    from rollout.models import BrandFlag

    brand = Brand.objects.create(name="Bench", slug=f"bench-{time.time_ns()}")
    customer = Customer.objects.create(
        brand=brand, external_id="bench", email="bench@example.com", email_verified=True
    )
    order = DemoOrder.objects.create(
        brand=brand,
        customer=customer,
        number="BN-1001",
        status="in_transit",
        items=[{"title": "Lamp", "quantity": 1}],
        total=Decimal("39.90"),
        created_at=timezone.now(),
    )
    DemoShipment.objects.create(
        order=order, carrier="DHL", tracking_number="JD555555", status="in_transit"
    )
    flag, _ = BrandFlag.objects.get_or_create(name=FETCH_ORDERS, defaults={"everyone": None})
    flag.brands.add(brand)
    flag.flush()

    cpu: list[float] = []

    def one_draft(index: int) -> float:
        ticket = Ticket.objects.create(brand=brand, customer=customer, external_id=f"b{index}")
        Message.objects.create(ticket=ticket, body="Hello, where is my order BN-1001?")
        started, cpu_started = time.perf_counter(), time.process_time()
        draft = draft_request(ticket=ticket, enqueue=False)
        draft = draft_generate(draft_id=draft.pk, provider_name="openai")
        elapsed = time.perf_counter() - started
        cpu.append(time.process_time() - cpu_started)
        assert draft is not None and draft.status == "ready", draft and draft.status_reason
        # The injected latency is subtracted per model call: the run must make exactly two.
        assert draft.trace.iterations == 2, draft.trace.iterations
        return elapsed

    results: dict[str, Any] = {"database": settings.DATABASES["default"]["ENGINE"].rsplit(".")[-1]}
    settings.OPENAI_API_KEY = "sk-bench"
    with model_server(0.0) as base_url:
        settings.OPENAI_BASE_URL = base_url
        for index in range(5):  # warm up: imports, connections, caches
            one_draft(-1 - index)
        cpu.clear()
        fast = [one_draft(i) for i in range(drafts)]
        results["cpu_ms_p50"] = round(statistics.median(cpu) * 1000, 2)
    results["own_ms_p50"] = round(statistics.median(fast) * 1000, 2)
    results["own_ms_p95"] = round(percentile(fast, 0.95) * 1000, 2)
    results["drafts"] = drafts

    model_calls = 2
    injected = model_calls * latency
    with model_server(latency) as base_url:
        settings.OPENAI_BASE_URL = base_url
        one_draft(-10)  # new server, new connection
        slow = [one_draft(drafts + i) for i in range(slow_drafts)]
        bare = bare_overshoot(base_url, latency, calls=2 * slow_drafts)
    own_slow = [elapsed - injected for elapsed in slow]
    results["latency_s"] = latency
    results["slow_drafts"] = slow_drafts
    results["own_ms_p50_at_latency"] = round(statistics.median(own_slow) * 1000, 2)
    results["ratio_p50"] = round(statistics.median(slow) / injected, 4)
    results["ratio_max"] = round(max(slow) / injected, 4)
    results["bare_call_overshoot_ms_p50"] = round(statistics.median(bare) * 1000, 2)
    return results


def bare_overshoot(base_url: str, latency: float, *, calls: int) -> list[float]:
    """Seconds past `latency` that a bare HTTP client waits for the same server: the part of
    a slow draft's own time that is the machine's (waking up after a long wait), not the app's."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base_url)
    client = http.client.HTTPConnection(url.hostname, url.port, timeout=latency + 10)
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "hi"}]})
    overshoot = []
    for _ in range(calls):
        started = time.perf_counter()
        client.request(
            "POST", f"{url.path}/chat/completions", body, {"Content-Type": "application/json"}
        )
        client.getresponse().read()
        overshoot.append(time.perf_counter() - started - latency)
    client.close()
    return overshoot


def postgres_ready(url: str, *, synchronous_commit: bool) -> str | None:
    """(Re)create the bench database; None when done, else why PostgreSQL is not usable.

    With `synchronous_commit` off (for this bench database only) a commit does not wait
    for the server's WAL flush, which separates the app's own time from the disk's.
    """
    import psycopg

    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
            if not synchronous_commit:
                conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    except psycopg.Error as error:
        return f"PostgreSQL not reachable: {error}".splitlines()[0]
    return None


def drop_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_child(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        database_url,
        "--drafts",
        str(args.drafts),
        "--slow-drafts",
        str(args.slow_drafts),
        "--latency",
        str(args.latency),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench child failed for {database_url}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=int, default=60)
    parser.add_argument("--slow-drafts", type=int, default=8)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.drafts, args.slow_drafts, args.latency)))
        return

    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        figures.append(run_child(f"sqlite:///{tmp}/bench.sqlite3", args))
    for synchronous_commit in (True, False):
        problem = postgres_ready(args.pg_url, synchronous_commit=synchronous_commit)
        if problem:
            print(problem)
            break
        try:
            result = run_child(args.pg_url, args)
        finally:
            drop_postgres(args.pg_url)
        if not synchronous_commit:
            result["database"] += " (synchronous_commit=off)"
        figures.append(result)

    for f in figures:
        print(
            f"{f['database']:<11}\n  own time per draft p50 {f['own_ms_p50']:.1f} ms, "
            f"p95 {f['own_ms_p95']:.1f} ms, CPU p50 {f['cpu_ms_p50']:.1f} ms "
            f"({f['drafts']} drafts, instant model)\n  "
            f"at {f['latency_s']:g} s per model call: end-to-end / injected = "
            f"{f['ratio_p50']:.4f} (p50), {f['ratio_max']:.4f} (max), own time p50 "
            f"{f['own_ms_p50_at_latency']:.1f} ms ({f['slow_drafts']} drafts); a bare HTTP "
            f"client waits {f['bare_call_overshoot_ms_p50']:.1f} ms past the latency per call"
        )
    reference = machine_reference_us()
    print(f"load average when done: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"machine: sum(range(1000)) takes {reference:.1f} µs (lower is faster)")
    goals = all(f["own_ms_p50"] <= 15 and f["ratio_p50"] <= 1.02 for f in figures[:2])
    print(f"goals (own p50 <= 15 ms, ratio <= 1.02 at 1 s): {'met' if goals else 'NOT met'}")
    print(
        json.dumps(
            {"results": figures, "machine_reference_us": round(reference, 1), "goals_met": goals}
        )
    )


if __name__ == "__main__":
    main()
