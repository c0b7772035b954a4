"""Shared fixtures. Service-backed tests (PostgreSQL, Redis + a real Celery worker, Chromium)
skip with a reason on a laptop without them, and fail under CI=true, where they must run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from copilot.models import Brand, Role
from rollout.flags import FETCH_ORDERS
from rollout.models import BrandFlag
from tests.factories import PASSWORD, MembershipFactory, UserFactory

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require(condition: bool, reason: str) -> None:
    """Skip when a service is missing, except under CI, where a missing service is a failure."""
    if condition:
        return
    if CI:
        pytest.fail(f"{reason} (CI=true: service-backed tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") or request.node.get_closest_marker("services"):
        require(
            connection.vendor == "postgresql",
            "needs PostgreSQL: run with DATABASE_URL=postgres://... (make test does)",
        )
    if request.node.get_closest_marker("browser"):
        require(Path(CHROMIUM).exists(), f"needs Debian's chromium at {CHROMIUM}")


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Waffle caches flags; each test starts from the database."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def brand(db) -> Brand:
    from tests.factories import BrandFactory

    return BrandFactory()


@pytest.fixture
def enable_fetch_orders():
    """Turn `fetch_orders` on for the given brands."""

    def enable(*brands: Brand) -> BrandFlag:
        flag, _ = BrandFlag.objects.get_or_create(name=FETCH_ORDERS, defaults={"everyone": None})
        flag.brands.add(*brands)
        flag.flush()
        return flag

    return enable


@pytest.fixture
def member(db):
    """Create a user with `role` in `brand` and return a logged-in test client and the user."""

    def make(brand: Brand, role: str = Role.AGENT):
        user = UserFactory()
        MembershipFactory(user=user, brand=brand, role=role)
        return login(user), user

    return make


# --- Redis + a real Celery worker ----------------------------------------------------------


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def database_url_of_tests() -> str:
    """The URL of the PostgreSQL database pytest-django set up, for processes a test starts."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def celery_worker_process(transactional_db) -> Iterator[subprocess.Popen]:
    """A real `celery worker` process consuming from Redis against the test database.

    The test process stops running tasks eagerly and publishes to the same broker. When the
    test process uses a Redis cache (override `CACHES` before asking for this fixture), the
    worker is given the same one, so both read and flush the same waffle state.
    """
    require(_redis_reachable(REDIS_URL), f"needs Redis at {REDIS_URL}")
    import redis

    from copilot.celery import app

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_tests(),
        "CELERY_BROKER_URL": REDIS_URL,
        "SECRET_KEY": "worker-test-key",
        "DEBUG": "0",
    }
    cache = django_settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        env["CACHE_URL"] = cache["LOCATION"]
    log = open(artifacts_dir() / "celery-worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "copilot",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "-Q",
            "copilot",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "The Celery worker did not start:\n"
                    + (artifacts_dir() / "celery-worker.log").read_text()[-3000:]
                )
        yield worker
    finally:
        app.conf.update(**previous)
        # The test is over: nothing the worker would still do is looked at, and the next test
        # starts from an emptied broker and database. A warm shutdown would only cost seconds.
        worker.kill()
        worker.wait(timeout=10)
        log.close()


def artifacts_dir() -> Path:
    """The ignored folder for screenshots and service logs."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- Browser -------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last (after pytest-django's own ordering), one after another: the
    session's one Chromium, and the event loop Playwright keeps running in this thread while
    it is open, start with the first of them and are never there for another test."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, launched once for the session (never a downloaded
    browser); each test gets a fresh context of its own from `page`."""
    require(Path(CHROMIUM).exists(), f"needs Debian's chromium at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(live_server, browser):
    """A Playwright page in a fresh browser context: no cookie, storage or cache of another
    test."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
