"""The shared HTTP helper: bounded retries, Retry-After within the deadline, the circuit
breaker shared through the cache with a half-open probe."""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import subprocess
import sys
import time
import uuid

import pytest

from copilot.outbound import parse_retry_after
from orders.connectors.base import ConnectorAuthError, ConnectorCircuitOpen, ConnectorUnavailable
from orders.connectors.http import CircuitBreaker, HttpClient, HttpPolicy
from tests.conftest import REDIS_URL, ROOT, _redis_reachable, require


def client(fake, **policy) -> HttpClient:
    defaults = {"max_retries": 0, "circuit_failures": 2, "circuit_reset_seconds": 0.3}
    return HttpClient(
        vendor="test",
        source_key="s1",
        base_url=fake.url,
        call_timeout=1.0,
        auth=("k", ""),
        policy=HttpPolicy(**{**defaults, **policy}),
    )


def get(http: HttpClient, timeout: float = 2.0):
    return http.request_json(
        "GET", "/api/", params={"output_format": "JSON"}, deadline=time.monotonic() + timeout
    )


def test_breaker_opens_skips_calls_then_a_single_probe_closes_it(prestashop):
    prestashop.api_key = "k"
    first, other_process = client(prestashop), client(prestashop)
    prestashop.fail("500", times=2)
    for _ in range(2):
        with pytest.raises(ConnectorUnavailable):
            get(first)

    # Another client (think: another worker) shares the state through the cache.
    with pytest.raises(ConnectorCircuitOpen) as error:
        get(other_process)
    assert error.value.code == "order_source_circuit_open"
    assert len(prestashop.requests) == 2
    assert first.breaker.state() == "open"

    time.sleep(0.35)
    assert first.breaker.state() == "half_open"
    assert get(other_process)  # the probe goes through and succeeds
    assert first.breaker.state() == "closed"
    assert get(first)
    assert len(prestashop.requests) == 4


def test_a_failed_probe_opens_the_circuit_again(prestashop):
    prestashop.api_key = "k"
    http = client(prestashop)
    prestashop.fail("500", times=3)
    for _ in range(2):
        with pytest.raises(ConnectorUnavailable):
            get(http)
    time.sleep(0.35)

    with pytest.raises(ConnectorUnavailable):
        get(http)  # the probe fails
    with pytest.raises(ConnectorCircuitOpen):
        get(http)
    assert len(prestashop.requests) == 3


def test_only_one_caller_probes_a_half_open_circuit():
    breaker = CircuitBreaker("probe-test", failures=1, reset_seconds=0.1)
    breaker.record_failure()
    time.sleep(0.15)

    breaker.before_call()  # this caller probes
    with pytest.raises(ConnectorCircuitOpen):
        breaker.before_call()  # everyone else waits for the probe's outcome


def test_auth_failures_do_not_open_the_circuit(prestashop):
    http = client(prestashop)  # wrong key for the fake
    for _ in range(3):
        with pytest.raises(ConnectorAuthError, match="credentials"):
            get(http)
    assert http.breaker.state() == "closed"


def test_retries_are_bounded_and_backoff_is_jittered(prestashop):
    prestashop.api_key = "k"
    prestashop.fail("500", times=None)
    http = client(prestashop, max_retries=3, backoff_seconds=0.01, circuit_failures=99)

    with pytest.raises(ConnectorUnavailable):
        get(http)

    assert len(prestashop.requests) == 4
    policy = HttpPolicy(backoff_seconds=1, backoff_max_seconds=4)
    waits = [policy.backoff(attempt) for attempt in range(6) for _ in range(20)]
    assert min(waits) >= 0.5 and max(waits) <= 4
    assert len({round(w, 6) for w in waits}) > 10  # jittered, not fixed


def test_retry_after_is_honoured_when_it_fits(prestashop):
    prestashop.api_key = "k"
    prestashop.retry_after = "0.3"
    prestashop.fail("429", times=1)
    http = client(prestashop, max_retries=2)

    started = time.monotonic()
    assert get(http)
    assert time.monotonic() - started >= 0.3


def test_retry_after_parsing():
    assert parse_retry_after("2") == 2.0 and parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 25 < parse_retry_after(email.utils.format_datetime(later, usegmt=True)) <= 30


@pytest.mark.services
def test_breaker_state_is_shared_by_every_process_through_redis(settings):
    """Opened in this process, seen as open by a separate Python process (a worker)."""
    require(_redis_reachable(REDIS_URL), f"needs Redis at {REDIS_URL}")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    key = f"xproc-{uuid.uuid4().hex}"
    CircuitBreaker(key, failures=1, reset_seconds=60).record_failure()

    script = (
        "import django; django.setup(); "
        "from orders.connectors.http import CircuitBreaker; "
        f"print(CircuitBreaker({key!r}, failures=1, reset_seconds=60).state())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "copilot.settings",
            "DEBUG": "1",
            "CACHE_URL": REDIS_URL,
            "DATABASE_URL": "sqlite:///:memory:",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert other.stdout.strip().splitlines()[-1] == "open"
