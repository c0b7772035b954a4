"""Webhook intake under load: N signed Zendesk webhooks, a share of them exact replays, sent at
a fixed concurrency to the app served by gunicorn on 127.0.0.1 with PostgreSQL.

Celery is NOT eager: the app publishes each draft task to a Redis broker (db 10 by default)
that no worker consumes, so the figures are the intake's alone; the queue is flushed at the end.

Checks: exactly the distinct tickets are stored, every replay is refused (409), zero 5xx.
Prints throughput and latency percentiles, then one JSON line of the figures.

    .venv/bin/python bench/ingest.py [--requests 1000] [--duplicates 0.1] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.zendesk import webhook  # noqa: E402  (the same signer the tests use)

SECRET = "bench-webhook-secret"
SETUP = f"""
from copilot.models import Brand, HelpdeskConnection
brand, _ = Brand.objects.get_or_create(slug="bench", defaults={{"name": "Bench"}})
connection, _ = HelpdeskConnection.objects.get_or_create(brand=brand, defaults={{"kind": "zendesk"}})
connection.webhook_secret = "{SECRET}"
connection.save()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=5, help="threads per gunicorn worker")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="copilot_bench_ingest")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/10")
    args = parser.parse_args()

    reset_database(args.pg, args.db)
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "CELERY_BROKER_URL": args.broker,
        "SECRET_KEY": "bench-secret-key",
        "COPILOT_ENCRYPTION_KEYS": "bench-encryption-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # gunicorn serves plain HTTP on loopback
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_MAX": str(args.threads + 2),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    broker = redis.Redis.from_url(args.broker)
    broker.flushdb()

    distinct = args.requests - int(args.requests * args.duplicates)
    originals = [
        webhook(SECRET, ticket_id=str(10_000 + n), event_id=f"evt-{n}", email=f"c{n}@example.com")
        for n in range(distinct)
    ]
    rng = random.Random(8)
    # A replay is the very same signed request again (a helpdesk retry, or an attacker's copy).
    batch = originals + [rng.choice(originals) for _ in range(args.requests - distinct)]
    rng.shuffle(batch)

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "copilot.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers),
            "--worker-class", "gthread",
            "--threads", str(args.threads),
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/hooks/zendesk/bench/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)

        with httpx.Client(
            timeout=30, limits=httpx.Limits(max_connections=args.concurrency)
        ) as http:

            def send(item: tuple[bytes, dict[str, str]]) -> tuple[int, float]:
                body, headers = item
                started = time.perf_counter()
                response = http.post(
                    url, content=body, headers={**headers, "Content-Type": "application/json"}
                )
                return response.status_code, (time.perf_counter() - started) * 1000

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                results = list(pool.map(send, batch))
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        tickets = conn.execute("SELECT count(*) FROM copilot_ticket").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM copilot_webhookevent").fetchone()[0]
        drafts = conn.execute("SELECT count(*) FROM copilot_draft").fetchone()[0]
    queued = broker.llen("copilot")
    broker.flushdb()

    statuses = Counter(status for status, _ in results)
    latencies = [ms for _, ms in results]
    figures = {
        "requests": len(batch),
        "distinct": distinct,
        "concurrency": args.concurrency,
        "gunicorn": f"{args.workers}x{args.threads} gthread",
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "tickets_stored": tickets,
        "events_stored": events,
        "drafts_stored": drafts,
        "draft_tasks_queued": queued,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(batch) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }
    ok = (
        tickets == distinct
        and events == distinct
        and figures["server_errors"] == 0
        and statuses.get(202, 0) == distinct
        and statuses.get(409, 0) == len(batch) - distinct
    )
    print(f"{len(batch)} webhooks ({distinct} distinct) at concurrency {args.concurrency}")
    print(f"statuses: {figures['statuses']}  5xx: {figures['server_errors']}")
    print(f"tickets stored: {tickets} (expected {distinct}), events: {events}, drafts: {drafts}")
    print(f"draft tasks waiting in the broker: {queued}")
    print(
        f"throughput: {figures['throughput_rps']} req/s over {figures['seconds']} s; "
        f"latency p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms"
    )
    print("result:", "OK" if ok else "FAILED")
    print(json.dumps({**figures, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
