"""Fixtures for fault injection: workers to kill, the broker the test publishes to, the
slow model, and the test database's URL for processes started by a test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from copilot.models import Brand
from tests.conftest import (
    REDIS_URL,
    _redis_reachable,
    artifacts_dir,
    database_url_of_tests,
    require,
)
from tests.factories import CustomerFactory, DemoOrderFactory, DemoShipmentFactory
from tests.fakes.slow_model import SlowModel
from tests.reliability.processes import Worker, start_worker

# Bounds every worker started here shares: a short visibility timeout (so a killed worker's
# message comes back within seconds), time limits under it, the run deadline under those.
# Room is left for a cold worker on a busy 2-core machine: a run longer than the visibility
# timeout would be delivered twice.
FAST_RECOVERY_ENV = {
    "COPILOT_RUN_DEADLINE_SECONDS": "8",
    "CELERY_TASK_SOFT_TIME_LIMIT": "9",
    "CELERY_TASK_TIME_LIMIT": "10",
    "COPILOT_BROKER_VISIBILITY_TIMEOUT": "12",
    "COPILOT_BROKER_RESTORE_INTERVAL": "1",
    "COPILOT_BROKER_RESTORE_LOCK_SECONDS": "2",
    "COPILOT_DRAFT_STUCK_SECONDS": "12",
    "COPILOT_DRAFT_PENDING_SECONDS": "3",
    "COPILOT_SWEEP_INTERVAL_SECONDS": "1",
    "OPENAI_TIMEOUT_SECONDS": "5",
    "LOG_LEVEL": "INFO",
}


def _forget_broker_pools() -> None:
    """Drop the connection and producer pools bound to the broker URL they were made for (an
    eager `delay` makes them too). They are not closed: code holding one may still use it."""
    from copilot.celery import app

    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _no_broker_pool_leaks() -> Iterator[None]:
    """A later test that points the app at another broker must not get this test's pools."""
    yield
    _forget_broker_pools()


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """Make this process publish tasks to `broker_url` instead of running them eagerly."""
    from copilot.celery import app

    previous = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    _forget_broker_pools()
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    try:
        yield
    finally:
        _forget_broker_pools()
        app.conf.update(**previous)


@pytest.fixture
def redis_broker(transactional_db) -> Iterator[str]:
    """The test Redis database, emptied, with this process publishing to it."""
    require(_redis_reachable(REDIS_URL), f"needs Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with publishing_to(REDIS_URL):
        yield REDIS_URL


@pytest.fixture
def workers(request: pytest.FixtureRequest) -> Iterator[Callable[..., Worker]]:
    """Start real workers (`workers(env=..., broker_url=..., database_url=...)`); all are
    stopped when the test ends, and their logs are kept under artifacts/."""
    started: list[Worker] = []
    counter = itertools.count()

    def start(
        *,
        env: dict[str, str],
        broker_url: str = REDIS_URL,
        database_url: str | None = None,
        concurrency: int = 8,
        beat: bool = False,
        include: tuple[str, ...] = (),
        queues: str = "copilot",
    ) -> Worker:
        n = next(counter)
        worker = start_worker(
            database_url=database_url or database_url_of_tests(),
            broker_url=broker_url,
            log_path=artifacts_dir() / f"{request.node.name}-worker-{n}.log",
            concurrency=concurrency,
            env={**FAST_RECOVERY_ENV, **env},
            name=f"rel{n}",
            beat=beat,
            include=include,
            queues=queues,
        )
        started.append(worker)
        return worker

    yield start
    # The test is over: nothing the workers would still do is looked at, and the next test
    # starts from an emptied broker and database. Warm shutdowns would only cost seconds.
    for worker in started:
        worker.kill()  # its whole process group: an embedded beat too, even if it outlived it


@pytest.fixture
def slow_model() -> Iterator[Callable[..., SlowModel]]:
    """Start a local OpenAI-compatible model with the faults given as keyword arguments."""
    models: list[SlowModel] = []

    def start(**faults) -> SlowModel:
        model = SlowModel(**faults).start()
        models.append(model)
        return model

    yield start
    for model in models:
        model.stop()


def model_env(model: SlowModel) -> dict[str, str]:
    """Worker settings that send drafts to `model` through the real openai provider."""
    return {"COPILOT_PROVIDER": "openai", "OPENAI_BASE_URL": model.url, "OPENAI_API_KEY": "t"}


@pytest.fixture
def shop(brand: Brand, enable_fetch_orders):
    """Brand with `fetch_orders` on and an identified customer who has order KO-1."""
    enable_fetch_orders(brand)
    customer = CustomerFactory(brand=brand, email="kim@example.com", email_verified=True)
    order = DemoOrderFactory(brand=brand, customer=customer, number="KO-1")
    DemoShipmentFactory(order=order, tracking_number="KOTRACK1")
    return brand, customer
