"""Redis and PostgreSQL restart while drafts are in flight: requests fail fast (or, for the
broker, do not fail at all: the ticket is stored and its draft waits), workers reconnect by
themselves, and every draft is written exactly once: nothing stays pending.

Each test restarts a server of its own on a free port, never the machine's shared ones.

Workers run under a supervisor that restarts a worker that exits, as production does:
kombu 5.7's Redis transport can crash a worker ("Unrecoverable error: AttributeError ...
'hostname'") when the connection drops while acknowledgements are pending. The drafts of
that worker are then finished by the next one or re-queued by the sweeper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import psycopg
import pytest
from django.urls import reverse

from audit.models import Trace
from copilot.models import Draft
from tests.conftest import REDIS_URL, ROOT, _redis_reachable, artifacts_dir, require
from tests.reliability.conftest import FAST_RECOVERY_ENV, model_env, publishing_to
from tests.reliability.processes import (
    OwnPostgres,
    OwnRedis,
    Supervisor,
    free_port,
    wait_until,
)

pytestmark = [pytest.mark.services, pytest.mark.postgres]


def _ticket(key: str) -> str:
    return json.dumps(
        {"external_id": key, "subject": f"{key} question", "body": "What are your hours?"}
    )


def test_redis_restart_mid_run_loses_no_draft(transactional_db, brand, client, workers, slow_model):
    require(OwnRedis.available(), "needs redis-server to start a Redis of its own")
    redis = OwnRedis()
    redis.start()
    model = slow_model(delay=1.0)
    token = brand.rotate_api_token()

    def post(key: str) -> tuple[int, float, int | None]:
        started = time.monotonic()
        response = client.post(
            reverse("api_ticket_create"),
            _ticket(key),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        body = response.json()
        return response.status_code, time.monotonic() - started, body.get("draft_id")

    supervisor: Supervisor | None = None
    try:
        with publishing_to(redis.url()):
            supervisor = Supervisor(
                lambda: workers(env=model_env(model), broker_url=redis.url(), beat=True)
            )
            before = [post(f"redis-{n}") for n in range(5)]
            wait_until(lambda: len(model.requests) >= 3, timeout=30, what="drafts in flight")

            redis.stop()  # SIGKILL, no persistence: queued and unacknowledged messages are gone
            during = [post(f"redis-{n}") for n in range(5, 10)]
            redis.start()
            after = [post(f"redis-{n}") for n in range(10, 13)]

            ids = [draft_id for _, _, draft_id in before + during + after]
            wait_until(
                lambda: (
                    Draft.objects.filter(pk__in=ids, status=Draft.Status.READY).count() == len(ids)
                ),
                timeout=90,
                what="every draft ready after the Redis restart",
            )
    finally:
        if supervisor is not None:
            supervisor.stop()
        redis.stop()

    assert [status for status, _, _ in before + during + after] == [202] * 13
    # The broker being down costs an intake request well under a second or two, not a hang.
    assert max(elapsed for _, elapsed, _ in during) < 3.0
    assert Trace.objects.filter(draft_id__in=ids).count() == len(ids)
    # After the restart a worker (the same one, or the supervisor's replacement) is connected.
    assert "Connected to redis" in supervisor.worker.log().split("Connection to broker lost")[-1]


def _manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# A draft whose run the restart broke stays `generating` until the sweeper queues it again,
# COPILOT_DRAFT_STUCK_SECONDS later: the bounds here are shrunk together (runs take about a
# second) so that wait is 7 s, not 12.
PG_RESTART_ENV = {
    "COPILOT_RUN_DEADLINE_SECONDS": "4",
    "CELERY_TASK_SOFT_TIME_LIMIT": "5",
    "CELERY_TASK_TIME_LIMIT": "6",
    "COPILOT_BROKER_VISIBILITY_TIMEOUT": "7",
    "COPILOT_DRAFT_STUCK_SECONDS": "7",
}


def test_postgres_restart_mid_run_fails_requests_fast_and_loses_no_draft(workers, slow_model):
    require(OwnPostgres.available(), "needs PostgreSQL's server binaries")
    require(_redis_reachable(REDIS_URL), f"needs Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    pg = OwnPostgres().init()
    pg.start()
    web = None
    supervisor: Supervisor | None = None
    try:
        pg.createdb("copilot")
        database_url = pg.url("copilot")
        model = slow_model(delay=1.0)
        env = {
            **os.environ,
            **FAST_RECOVERY_ENV,
            **PG_RESTART_ENV,
            **model_env(model),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": REDIS_URL,
            "SECRET_KEY": "restart-test-" + "k" * 50,
            "COPILOT_ENCRYPTION_KEYS": "restart-test-encryption-key",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_POOL_TIMEOUT": "2",
        }
        token = _manage(  # one process: the migrations, then the brand
            "shell",
            "-c",
            "from django.core.management import call_command; "
            "call_command('migrate', interactive=False, verbosity=0); "
            "from copilot.models import Brand; "
            "print(Brand.objects.create(name='PG', slug='pg').rotate_api_token())",
            env=env,
        ).split()[-1]  # after the shell's own banner
        port = free_port()
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "copilot.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "--threads",
                "4",
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(artifacts_dir() / "pg-restart-web.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        supervisor = Supervisor(
            lambda: workers(
                env={**PG_RESTART_ENV, **model_env(model), "DATABASE_POOL_TIMEOUT": "2"},
                database_url=database_url,
                beat=True,
            )
        )
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30,
        )

        def post(key: str) -> tuple[int, float]:
            started = time.monotonic()
            status = http.post("/api/v1/tickets", content=_ticket(key)).status_code
            return status, time.monotonic() - started

        def web_up() -> bool:
            try:
                return post("pg-probe")[0] == 202
            except httpx.TransportError:
                return False

        wait_until(web_up, timeout=30, what="web server up")
        assert [post(f"pg-{n}")[0] for n in range(4)] == [202] * 4
        wait_until(lambda: len(model.requests) >= 3, timeout=30, what="drafts in flight")

        pg.stop()
        status, elapsed = post("pg-down")
        assert status >= 500  # the database is down: the request fails...
        assert elapsed < 8.0  # ...fast (pool timeout 2 s), it does not hang
        pg.start()

        # Right after the restart a request may still meet a dead pooled connection; within
        # seconds everything answers again.
        wait_until(lambda: post("pg-back")[0] == 202, timeout=30, what="intake back")
        assert [post(f"pg-{n}")[0] for n in range(4, 7)] == [202] * 3

        def open_drafts() -> int:
            with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
                return conn.execute(
                    "SELECT count(*) FROM copilot_draft WHERE status IN ('pending', 'generating')"
                ).fetchone()[0]

        wait_until(lambda: open_drafts() == 0, timeout=120, what="no draft left open")
        with psycopg.connect(database_url) as conn:
            drafts = conn.execute("SELECT count(*) FROM copilot_draft").fetchone()[0]
            ready = conn.execute(
                "SELECT count(*) FROM copilot_draft WHERE status = 'ready'"
            ).fetchone()[0]
            traces = conn.execute("SELECT count(DISTINCT draft_id), count(*) FROM audit_trace")
            distinct, total = traces.fetchone()
        assert drafts == ready  # every ticket that got in was answered
        assert distinct == total == drafts  # once each
    finally:
        if supervisor is not None:
            supervisor.stop()
        if web is not None:
            web.terminate()
            web.wait(timeout=15)
        pg.destroy()
