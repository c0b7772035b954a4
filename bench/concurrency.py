"""Many drafts in flight per machine: 200 drafts, each waiting 2 s on the model.

Real services end to end: PostgreSQL (its own database, `copilot_bench_conc`), Redis, real
Celery worker processes on the threads pool, the real `openai` SDK talking to a local
OpenAI-compatible server that answers after an injected latency. Prints the makespan of the
batch against the latency of one draft on its own; the goal is a ratio of at most 1.5.

    python bench/concurrency.py [--drafts 200] [--latency 2] [--workers 2] [--threads 100]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/copilot_bench_conc),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14). Both are wiped by the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.processes import free_port, start_worker, wait_until  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/copilot_bench_conc"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare_database() -> None:
    """Create the benchmark's database afresh and migrate it."""
    import psycopg

    server, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": DATABASE_URL, "DEBUG": "1"},
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=2.0, help="model latency, seconds")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=100, help="threads per worker")
    args = parser.parse_args()

    prepare_database()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    # The fake model runs in its own process, so that it competes with no one for a GIL.
    port = free_port()
    model = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.slow_model",
            f"--delay={args.latency}",
            f"--port={port}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    model_url = model.stdout.readline().strip()
    os.environ.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "copilot.settings",
            "SECRET_KEY": "bench-" + "k" * 50,
            "COPILOT_PROVIDER": "openai",
            "OPENAI_BASE_URL": model_url,
            "OPENAI_API_KEY": "bench",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from copilot.celery import app
    from copilot.models import Brand, Customer, Draft, Message, Ticket
    from copilot.tasks import draft_generate_task

    brand = Brand.objects.create(name="Bench", slug="bench-concurrency")
    customer = Customer.objects.create(brand=brand, external_id="c1", email="c1@example.com")
    tickets = Ticket.objects.bulk_create(
        Ticket(brand=brand, customer=customer, external_id=f"b{i}", subject=f"Question {i}")
        for i in range(args.drafts + args.workers + 1)
    )
    Message.objects.bulk_create(
        Message(ticket=t, body="Hello, a question about your opening hours.") for t in tickets
    )
    drafts = Draft.objects.bulk_create(Draft(ticket=t) for t in tickets)
    ids = [d.pk for d in drafts]

    logs = Path(tempfile.mkdtemp(prefix="bench-conc-"))
    env = {
        k: os.environ[k]
        for k in ("COPILOT_PROVIDER", "OPENAI_BASE_URL", "OPENAI_API_KEY", "LOG_LEVEL")
    }
    env["DATABASE_POOL_MAX"] = "10"
    workers = [
        start_worker(
            database_url=DATABASE_URL,
            broker_url=REDIS_URL,
            log_path=logs / f"worker-{n}.log",
            concurrency=args.threads,
            env=env,
            name=f"bench{n}",
        )
        for n in range(args.workers)
    ]
    done = (Draft.Status.READY, Draft.Status.FAILED)
    warm_up, single_id, batch = ids[: args.workers], ids[args.workers], ids[args.workers + 1 :]
    try:
        # Warm each worker (imports, first connections, threads) before measuring anything.
        for draft_id in warm_up:
            draft_generate_task.delay(draft_id)
        wait_until(
            lambda: Draft.objects.filter(pk__in=warm_up, status__in=done).count() == len(warm_up),
            timeout=60,
            what="warm-up drafts",
        )
        # One draft alone: the latency a single customer sees.
        started = time.monotonic()
        draft_generate_task.delay(single_id)
        wait_until(
            lambda: Draft.objects.filter(pk=single_id, status__in=done).exists(),
            timeout=60,
            interval=0.02,
            what="single draft",
        )
        single = time.monotonic() - started

        cpu_before = sum(cpu_seconds(w.process.pid) for w in workers)
        started = time.monotonic()
        with app.producer_or_acquire() as producer:
            for draft_id in batch:
                draft_generate_task.apply_async((draft_id,), producer=producer)
        published = time.monotonic() - started
        wait_until(
            lambda: Draft.objects.filter(pk__in=batch, status__in=done).count() == len(batch),
            timeout=max(120, 2 * args.drafts * args.latency / (args.workers * args.threads)),
            interval=0.05,
            what="all drafts done",
        )
        makespan = time.monotonic() - started
        worker_cpu = sum(cpu_seconds(w.process.pid) for w in workers) - cpu_before
    finally:
        for worker in workers:
            worker.stop()
        model.terminate()
        model.wait(timeout=10)

    from audit.models import Trace

    latencies = sorted(
        Trace.objects.filter(draft_id__in=batch).values_list("latency_ms", flat=True)
    )
    failed = Draft.objects.filter(pk__in=batch, status=Draft.Status.FAILED).count()
    figures = {
        "bench": "concurrency",
        "drafts": len(batch),
        "model_latency_s": args.latency,
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "single_draft_s": round(single, 3),
        "makespan_s": round(makespan, 3),
        "ratio": round(makespan / single, 3),
        "goal_ratio": 1.5,
        "goal_met": makespan / single <= 1.5 and failed == 0,
        "publish_s": round(published, 3),
        "run_p50_ms": statistics.median(latencies) if latencies else None,
        "run_max_ms": latencies[-1] if latencies else None,
        "failed": failed,
        "worker_cpu_s": round(worker_cpu, 2),
        "worker_cpu_ms_per_draft": round(worker_cpu / len(batch) * 1000, 1),
        # No schedule beats one draft's latency plus the workers' CPU spread over every core.
        "cpu_bound_makespan_s": round(single + worker_cpu / (os.cpu_count() or 1), 2),
    }
    print(
        f"{len(batch)} drafts, model latency {args.latency:g} s, "
        f"{args.workers} worker(s) x {args.threads} threads on {os.cpu_count()} cores"
    )
    print(f"one draft alone:     {single:6.2f} s")
    print(f"makespan of batch:   {makespan:6.2f} s  (publishing took {published:.2f} s)")
    print(f"ratio:               {makespan / single:6.2f}x  (goal <= 1.5x)")
    print(f"failed drafts:       {failed}")
    print(
        f"worker CPU:          {worker_cpu:6.2f} s ({worker_cpu / len(batch) * 1000:.0f} ms a draft)"
        f" -> makespan >= {single + worker_cpu / (os.cpu_count() or 1):.2f} s on these cores"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
