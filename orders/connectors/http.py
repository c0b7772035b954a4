"""The one HTTP helper every order connector uses.

Every call has a timeout (the smaller of the source's per-call timeout and what is left of
the lookup's deadline); 429 and 5xx are retried a bounded number of times with backoff and
jitter, honouring Retry-After only when the wait fits before the deadline; failures become
the typed `ConnectorError`s of `orders.connectors.base` (`ORDER_ERRORS`, through the status
table every outbound client shares in `copilot.outbound`); each source has a circuit breaker
whose state lives in the Django cache, so every web and worker process shares it. Log events
carry the vendor, source, method, path, status and timing, never headers, query strings
(they hold customer emails) or bodies.

Order systems and carrier-tracking services (`orders.carriers`) both call out through this
helper; a `ConnectorErrors` says which typed errors one kind of system raises, so a carrier
that times out is `carrier_timeout`, not `order_source_timeout`, with the same retry and
breaker rules (its classes derive from the order ones).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.core.cache import cache

from copilot.outbound import ErrorFamily, Failure, json_answer, send
from orders.conf import conf
from orders.connectors.base import (
    ConnectorAuthError,
    ConnectorBadResponse,
    ConnectorCircuitOpen,
    ConnectorError,
    ConnectorNotFound,
    ConnectorRateLimited,
    ConnectorTimeout,
    ConnectorUnavailable,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpPolicy:
    """Retry and breaker bounds; `from_settings()` reads the ORDERS_* settings."""

    max_retries: int = 2
    backoff_seconds: float = 0.25
    backoff_max_seconds: float = 4.0
    circuit_failures: int = 5
    circuit_reset_seconds: float = 30.0

    @classmethod
    def from_settings(cls) -> HttpPolicy:
        return cls(
            max_retries=conf.ORDERS_HTTP_MAX_RETRIES,
            backoff_seconds=conf.ORDERS_HTTP_BACKOFF_SECONDS,
            backoff_max_seconds=conf.ORDERS_HTTP_BACKOFF_MAX_SECONDS,
            circuit_failures=conf.ORDERS_CIRCUIT_FAILURES,
            circuit_reset_seconds=conf.ORDERS_CIRCUIT_RESET_SECONDS,
        )

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not crypto)  # nosec B311


class CircuitBreaker:
    """Consecutive-failure breaker for one source, shared through the Django cache.

    Closed: calls go through. After `failures` failed calls in a row it opens for
    `reset_seconds`: calls are refused without touching the network. Then one caller (the
    one that wins `cache.add` on the probe key) may probe; success closes the circuit,
    failure opens it again for another `reset_seconds`.
    """

    def __init__(
        self,
        key: str,
        *,
        failures: int,
        reset_seconds: float,
        errors: ConnectorErrors | None = None,
    ) -> None:
        self.key = key
        self.failures = failures
        self.reset_seconds = reset_seconds
        self.errors = errors or ORDER_SYSTEM
        self._failures_key = f"orders:circuit:{key}:failures"
        self._open_until_key = f"orders:circuit:{key}:open_until"
        self._probe_key = f"orders:circuit:{key}:probe"

    def state(self) -> str:
        """ "closed", "open" or "half_open" (open, but its wait is over)."""
        open_until = cache.get(self._open_until_key)
        if open_until is None:
            return "closed"
        return "open" if time.time() < open_until else "half_open"

    def before_call(self) -> None:
        """Raise ConnectorCircuitOpen unless this caller may call the source now."""
        state = self.state()
        if state == "closed":
            return
        if state == "half_open" and cache.add(self._probe_key, 1, timeout=self.reset_seconds):
            logger.info("orders.circuit.probe", extra={"source": self.key})
            return
        logger.warning("orders.circuit.rejected", extra={"source": self.key, "state": state})
        raise self.errors.circuit_open(
            f"The {self.errors.system} failed repeatedly; lookups are paused for a moment."
        )

    def record_success(self) -> None:
        # One round trip when healthy (nothing to clear), a second only to clear state.
        state = cache.get_many([self._failures_key, self._open_until_key, self._probe_key])
        if not state:
            return
        if self._open_until_key in state:
            logger.info("orders.circuit.closed", extra={"source": self.key})
        cache.delete_many(list(state))

    def record_failure(self) -> None:
        probing = cache.get(self._probe_key) is not None
        cache.add(self._failures_key, 0, timeout=None)
        try:
            count = cache.incr(self._failures_key)
        except ValueError:  # evicted between add and incr
            cache.set(self._failures_key, 1, timeout=None)
            count = 1
        if probing or count >= self.failures:
            cache.set(self._open_until_key, time.time() + self.reset_seconds, timeout=None)
            cache.delete(self._probe_key)
            logger.warning(
                "orders.circuit.opened",
                extra={"source": self.key, "failures": count, "reset_seconds": self.reset_seconds},
            )


# Errors that say the source is unhealthy (and so count against its breaker). A wrong key or
# a wrong URL is a configuration problem the breaker cannot help with.
_BREAKER_ERRORS = (ConnectorUnavailable, ConnectorRateLimited, ConnectorBadResponse)

# What each failure of a call to an order system raises, and what people are told.
ORDER_ERRORS = ErrorFamily(
    events="orders.http",
    errors={
        Failure.AUTH: (ConnectorAuthError, "The order system refused the credentials."),
        Failure.NOT_FOUND: (
            ConnectorNotFound,
            "The order system's API was not found at this address.",
        ),
        Failure.RATE_LIMITED: (ConnectorRateLimited, "The order system is throttling requests."),
        Failure.SERVER_ERROR: (ConnectorUnavailable, "The order system failed ({status})."),
        Failure.REJECTED: (ConnectorBadResponse, "The order system answered {status}."),
        Failure.TIMEOUT: (
            ConnectorTimeout,
            "The order system did not answer within {timeout:.1f} s.",
        ),
        Failure.UNREACHABLE: (ConnectorUnavailable, "The order system could not be reached."),
        Failure.MALFORMED: (
            ConnectorBadResponse,
            "The order system answered with malformed JSON.",
        ),
    },
)


@dataclass(frozen=True)
class ConnectorErrors:
    """The typed errors of one kind of system called through `HttpClient`: its `family` (what
    each HTTP failure raises), the two errors the helper raises itself (`timeout` when no
    time is left, `circuit_open`), and the system's name in their messages. The classes
    derive from the order-source ones, which the retry and breaker rules test for."""

    family: ErrorFamily
    timeout: type[ConnectorTimeout]
    circuit_open: type[ConnectorCircuitOpen]
    system: str


ORDER_SYSTEM = ConnectorErrors(
    family=ORDER_ERRORS,
    timeout=ConnectorTimeout,
    circuit_open=ConnectorCircuitOpen,
    system="order system",
)

_client_lock = threading.Lock()
_client: httpx.Client | None = None


def _shared_client() -> httpx.Client:
    """One connection pool per process, created on first use (after any worker fork)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False, trust_env=False)
        return _client


class HttpClient:
    """JSON over HTTP for one order source, with the timeout, retry and breaker rules above."""

    def __init__(
        self,
        *,
        vendor: str,
        source_key: str,
        base_url: str,
        call_timeout: float,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        policy: HttpPolicy | None = None,
        breaker: bool = True,
        errors: ConnectorErrors = ORDER_SYSTEM,
    ) -> None:
        self.vendor = vendor
        self.errors = errors
        self.source_key = source_key
        self.base_url = base_url.rstrip("/")
        self.call_timeout = call_timeout
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.auth = auth
        self.policy = policy or HttpPolicy.from_settings()
        self.breaker = (
            CircuitBreaker(
                f"{vendor}:{source_key}",
                failures=self.policy.circuit_failures,
                reset_seconds=self.policy.circuit_reset_seconds,
                errors=errors,
            )
            if breaker
            else None
        )

    def request_json(
        self,
        method: str,
        path: str,
        *,
        deadline: float,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        inspect: Callable[[Any], None] | None = None,
    ) -> Any:
        """The decoded JSON answer; raises a ConnectorError subclass on any failure.

        `deadline` is a `time.monotonic()` value: no call, retry or wait goes past it.
        `inspect` sees each decoded answer and may raise a retryable ConnectorError (e.g. a
        GraphQL THROTTLED error inside a 200) to have it retried like a 429.
        """
        if self.breaker is not None:
            self.breaker.before_call()
        attempt = 0
        while True:
            try:
                payload = self._once(method, path, deadline, params, json_body, attempt)
                if inspect is not None:
                    inspect(payload)
            except ConnectorError as error:
                wait = self._retry_wait(error, attempt, deadline)
                if wait is None:
                    if self.breaker is not None and isinstance(error, _BREAKER_ERRORS):
                        self.breaker.record_failure()
                    raise
                logger.info(
                    "orders.http.retry",
                    extra={
                        "vendor": self.vendor,
                        "source": self.source_key,
                        "code": error.code,
                        "attempt": attempt + 1,
                        "wait_ms": round(wait * 1000),
                    },
                )
                time.sleep(wait)
                attempt += 1
                continue
            if self.breaker is not None:
                self.breaker.record_success()
            return payload

    def _retry_wait(self, error: ConnectorError, attempt: int, deadline: float) -> float | None:
        """How long to wait before retrying `error`, or None to give up now."""
        if not error.retryable or attempt >= self.policy.max_retries:
            return None
        if isinstance(error, ConnectorTimeout):
            return None  # the deadline already paid for one slow answer; don't wait twice
        wait = error.retry_after if error.retry_after is not None else self.policy.backoff(attempt)
        # A retry needs the wait plus a little time for the call itself.
        if time.monotonic() + wait + 0.05 >= deadline:
            return None
        return wait

    def _once(
        self,
        method: str,
        path: str,
        deadline: float,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        attempt: int,
    ) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self.errors.timeout(f"No time was left to ask the {self.errors.system}.")
        timeout = min(self.call_timeout, remaining)
        # Logged as <family>.response / .timeout / .unreachable (`orders.http.*` for order
        # systems, see `ORDER_ERRORS`).
        event = {
            "vendor": self.vendor,
            "source": self.source_key,
            "method": method,
            "path": path,
            "attempt": attempt + 1,
            "timeout_s": round(timeout, 3),
        }
        response = send(
            self.errors.family,
            _shared_client(),
            method,
            self.base_url + path,
            event=event,
            context={"timeout": timeout},
            params=params,
            json=json_body,
            headers=self.headers,
            auth=self.auth,
            timeout=timeout,
        )
        return json_answer(self.errors.family, response)
