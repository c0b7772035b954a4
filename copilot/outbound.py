"""Calls to other systems: what every outbound client shares (order sources, helpdesks, and
`parse_retry_after` for the model provider too).

- `STATUS_FAILURES` is the one table from an HTTP status to a `Failure`; a timeout, a
  transport error and a body that is not JSON are `Failure`s too.
- An `ErrorFamily` says, for every `Failure`, which typed `OutboundError` one family of
  clients raises and the plain-English message people see.
- `send` makes one request with a family: it logs one structured event and returns the 2xx
  response, or raises the family's error (`from` the httpx error, if any).
- `raise_for_status` and `json_answer` are its two halves for callers that hold a response.

This module is the bottom layer: it imports the stdlib, httpx and `copilot.errors` only.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import logging
import time
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from copilot.errors import OutboundError

logger = logging.getLogger(__name__)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), never negative;
    None when the header is missing or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class Failure(enum.StrEnum):
    """Why one outbound call failed. Every `ErrorFamily` names a class for each."""

    AUTH = "auth"  # 401, 403
    NOT_FOUND = "not_found"  # 404
    RATE_LIMITED = "rate_limited"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    REJECTED = "rejected"  # any other status outside 2xx
    TIMEOUT = "timeout"  # httpx.TimeoutException
    UNREACHABLE = "unreachable"  # any other httpx.HTTPError (connect, protocol, ...)
    MALFORMED = "malformed"  # a 2xx whose body is not JSON


# The one mapping from an HTTP status to a failure; the first row that holds the status wins.
# A 2xx is success. Any other status is REJECTED, a 3xx too: clients never follow redirects,
# so a 3xx means a wrong address (or a login page), not an answer.
STATUS_FAILURES: tuple[tuple[Container[int], Failure], ...] = (
    ((401, 403), Failure.AUTH),
    ((404,), Failure.NOT_FOUND),
    ((429,), Failure.RATE_LIMITED),
    (range(500, 1000), Failure.SERVER_ERROR),
)

# The failures whose answer may say when to come back: their `Retry-After` is read.
RETRY_AFTER_FAILURES = frozenset({Failure.RATE_LIMITED, Failure.SERVER_ERROR})


def failure_for_status(status: int) -> Failure | None:
    """The failure an HTTP status means (per `STATUS_FAILURES`), or None for a 2xx."""
    if 200 <= status < 300:
        return None
    for statuses, failure in STATUS_FAILURES:
        if status in statuses:
            return failure
    return Failure.REJECTED


@dataclass(frozen=True)
class ErrorFamily:
    """How one family of clients reports failures.

    `errors` maps every `Failure` to the class raised and its message: a `str.format`
    template filled with `{status}` (an HTTP answer), `{error}` (a transport error) and the
    caller's context (e.g. `{vendor}`). `events` prefixes the log events `send` writes:
    `<events>.response`, `<events>.timeout` and `<events>.unreachable`.
    """

    events: str
    errors: Mapping[Failure, tuple[type[OutboundError], str]]

    def __post_init__(self) -> None:
        missing = sorted(set(Failure) - set(self.errors))
        if missing:
            raise ValueError(f"The {self.events} error family has no error for {missing}.")

    def error(
        self, failure: Failure, context: Mapping[str, object], *, retry_after: float | None = None
    ) -> OutboundError:
        """This family's error for `failure` (not raised), its message filled from `context`
        (a mapping, not keywords: a context key can never clash with `retry_after`)."""
        cls, template = self.errors[failure]
        return cls(template.format(**context), retry_after=retry_after)


def raise_for_status(family: ErrorFamily, response: httpx.Response, **context: object) -> None:
    """Return if `response` is a 2xx. Otherwise raise `family`'s error for its status, with
    `retry_after` from the Retry-After header for a 429 or a 5xx (None for the others)."""
    status = response.status_code
    failure = failure_for_status(status)
    if failure is None:
        return
    retry_after = (
        parse_retry_after(response.headers.get("Retry-After"))
        if failure in RETRY_AFTER_FAILURES
        else None
    )
    raise family.error(failure, {**context, "status": status}, retry_after=retry_after)


def json_answer(family: ErrorFamily, response: httpx.Response, **context: object) -> Any:
    """The response's body decoded as JSON, or `family`'s MALFORMED error if it is not JSON."""
    try:
        return response.json()
    except ValueError as error:  # bad JSON or bad UTF-8
        raise family.error(
            Failure.MALFORMED, {**context, "status": response.status_code}
        ) from error


def send(
    family: ErrorFamily,
    client: httpx.Client,
    method: str,
    url: str,
    *,
    event: Mapping[str, Any],
    context: Mapping[str, object] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Make one request through `client` and return its 2xx response; raise `family`'s typed
    error for anything else (a timeout, a transport failure, a non-2xx status).

    `kwargs` go to `client.request`; the call always has a timeout (a `timeout` given here,
    else the client's, which httpx always sets). One event is logged with `event` as its
    context plus the duration and the status (or the error's type); `event` must hold no
    secrets, headers, query strings or bodies. `context` fills the family's messages.
    """
    context = context or {}
    started = time.monotonic()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        logger.warning(
            family.events + ".timeout", extra={**event, "duration_ms": _elapsed_ms(started)}
        )
        raise family.error(Failure.TIMEOUT, context) from error
    except httpx.HTTPError as error:
        logger.warning(
            family.events + ".unreachable",
            extra={**event, "error": type(error).__name__, "duration_ms": _elapsed_ms(started)},
        )
        raise family.error(Failure.UNREACHABLE, {**context, "error": error}) from error
    logger.info(
        family.events + ".response",
        extra={**event, "status": response.status_code, "duration_ms": _elapsed_ms(started)},
    )
    raise_for_status(family, response, **context)
    return response


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
