"""What every helpdesk integration shares: the parsed event, the signature checks, the typed
errors and the one HTTP helper that talks to a helpdesk's API.

Nothing past this package sees vendor JSON: a webhook becomes a `TicketEvent`, a reply goes
out through a `HelpdeskClient`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from copilot.conf import conf
from copilot.errors import OutboundError
from copilot.exceptions import CopilotError
from copilot.outbound import ErrorFamily, Failure, json_answer, send


# A signed request older (or newer) than this is refused: a captured request cannot be replayed
# later, and the dedup table only has to cover this window plus the helpdesk's retries.
class WebhookRejected(CopilotError):
    """A webhook request was refused. `code` and `status` are what the sender sees."""

    code = "webhook_rejected"
    status = 400


class UnknownConnection(WebhookRejected):
    code = "unknown_brand"
    status = 404


class BadSignature(WebhookRejected):
    code = "bad_signature"
    status = 401


class StaleTimestamp(WebhookRejected):
    code = "stale_timestamp"
    status = 401


class MalformedPayload(WebhookRejected):
    code = "malformed_payload"
    status = 400


class PayloadTooLarge(WebhookRejected):
    code = "payload_too_large"
    status = 413

    @classmethod
    def check(cls, size: int) -> None:
        """Refuse a body (or a declared length) over COPILOT_INTAKE_MAX_BYTES."""
        if size > conf.COPILOT_INTAKE_MAX_BYTES:
            raise cls(f"The body is larger than {conf.COPILOT_INTAKE_MAX_BYTES} bytes.")


class DuplicateEvent(WebhookRejected):
    code = "duplicate_event"
    status = 409


class HelpdeskError(OutboundError):
    """A helpdesk API call failed. `retryable` errors are worth another attempt later (a
    timeout may have reached the helpdesk: a retried delivery reconciles before posting);
    `retry_after` is the wait the helpdesk asked for, if it did."""

    code = "helpdesk_error"


class HelpdeskAuthError(HelpdeskError):
    code = "helpdesk_auth_failed"


class HelpdeskNotFound(HelpdeskError):
    code = "helpdesk_ticket_not_found"


class HelpdeskBadRequest(HelpdeskError):
    code = "helpdesk_bad_request"


class HelpdeskRateLimited(HelpdeskError):
    code = "helpdesk_throttled"
    retryable = True


class HelpdeskUnavailable(HelpdeskError):
    code = "helpdesk_unavailable"
    retryable = True


class HelpdeskTimeout(HelpdeskUnavailable):
    code = "helpdesk_timeout"


@dataclass(frozen=True)
class FieldLimits:
    """How long each field of an inbound ticket may be: the columns it is stored in (a
    helpdesk's customer id gets a "kind:" prefix, hence the room under Customer's 120)."""

    event_id: int = 120  # WebhookEvent.event_id
    remote_ticket_id: int = 60  # WebhookEvent.remote_ticket_id
    external_id: int = 120  # Ticket.external_id, Customer.external_id
    remote_customer_id: int = 100
    subject: int = 300  # Ticket.subject
    body: int = 100_000  # the first message; larger tickets are refused, not cut
    name: int = 200  # Customer.name


LIMITS = FieldLimits()


@dataclass(frozen=True)
class TicketEvent:
    """One inbound helpdesk event, normalized. The customer comes from the helpdesk's
    requester fields, never from the message text."""

    event_id: str
    ticket_id: str
    subject: str
    body: str
    customer_id: str
    customer_email: str
    customer_email_verified: bool
    customer_name: str
    sent_at: dt.datetime | None = None


@dataclass(frozen=True)
class RemoteReply:
    """A reply or note as the helpdesk lists it on a ticket."""

    remote_id: str
    text: str
    public: bool
    key: str = ""


class HelpdeskClient(Protocol):
    """Posts replies to one helpdesk account and reads them back. Use it in a `with` block:
    its connections are closed at the end."""

    def __enter__(self) -> HelpdeskClient: ...

    def __exit__(self, *exc: object) -> None: ...

    def check(self) -> str:
        """A short description of the account reached (e.g. the API user); raises HelpdeskError."""
        ...

    def post(self, *, ticket_id: str, text: str, public: bool, key: str) -> str:
        """Post `text` on the ticket as a public reply or an internal note; the remote id."""
        ...

    def replies(self, *, ticket_id: str) -> list[RemoteReply]:
        """The replies and notes already on the ticket (for reconciling an uncertain post)."""
        ...


class PooledClient:
    """A vendor client over one pooled `httpx.Client` (`self._http`): the `with` protocol,
    and API calls whose failures are typed HelpdeskErrors naming the vendor (`label`)."""

    label: str

    def __init__(self, *, base_url: str, timeout: float, **options: Any) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, **options)

    def __enter__(self) -> PooledClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The 2xx response of one API call (with the client's timeout); a HelpdeskError
        otherwise. After a timeout the helpdesk may have stored the write before we gave up."""
        return send(
            HELPDESK_ERRORS,
            self._http,
            method,
            url,
            event={"vendor": self.label, "method": method},
            context={"vendor": self.label},
            **kwargs,
        )

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON answer of one API call."""
        return json_answer(HELPDESK_ERRORS, self._call(method, url, **kwargs), vendor=self.label)


# --- signatures -----------------------------------------------------------------------------


def hmac_base64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def require_signature(expected: str, given: str) -> None:
    """Raise BadSignature unless `given` equals `expected`, compared in constant time."""
    if not given:
        raise BadSignature("The request is not signed: the signature header is missing.")
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise BadSignature("The signature does not match the body and the connection's secret.")


def parse_timestamp(value: Any) -> dt.datetime:
    """A UTC datetime from unix seconds or ISO 8601; MalformedPayload otherwise."""
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        if isinstance(value, str) and value:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise MalformedPayload("The timestamp is missing or not a unix time / ISO 8601 date.")


def require_fresh(sent_at: dt.datetime, *, tolerance: float, now: float | None = None) -> None:
    """Raise StaleTimestamp when `sent_at` is further than `tolerance` seconds from now."""
    skew = abs((now if now is not None else time.time()) - sent_at.timestamp())
    if skew > tolerance:
        raise StaleTimestamp(
            f"The request was signed {int(skew)} s away from now; the limit is {int(tolerance)} s."
        )


# --- JSON helpers for the vendor parsers ----------------------------------------------------


def load_json_object(
    body: bytes, *, error: type[CopilotError] = MalformedPayload
) -> dict[str, Any]:
    """The body as a JSON object, or `error` with the parser's reason."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad JSON and UTF-8, and integers past Python's digit limit;
        # RecursionError, nesting deeper than the parser's stack (found by fuzzing).
        raise error(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(payload, dict):
        raise error("The body must be a JSON object.")
    return payload


def obj(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key) or {}
    if not isinstance(value, dict):
        raise MalformedPayload(f"'{key}' must be an object.")
    return value


def text(payload: dict[str, Any], key: str, *, max_length: int, required: bool = False) -> str:
    """A string field (numbers are accepted as ids), stripped and length-checked."""
    value = payload.get(key)
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload(f"'{key}' must be a string.")
    value = str(value).strip()
    if required and not value:
        raise MalformedPayload(f"'{key}' is required.")
    if len(value) > max_length:
        raise MalformedPayload(f"'{key}' is longer than {max_length} characters.")
    return value


def flag(payload: dict[str, Any], key: str) -> bool:
    """True only for a JSON true or the strings a template placeholder renders ("true")."""
    value = payload.get(key)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def email(payload: dict[str, Any], key: str) -> str:
    value = text(payload, key, max_length=254)
    if value and "@" not in value:
        raise MalformedPayload(f"'{key}' is not an email address.")
    return value


# --- the HTTP helper's errors ----------------------------------------------------------------

# What each failure of a helpdesk API call raises, and what people are told; `PooledClient`
# calls through `copilot.outbound.send`, which logs helpdesks.http.response / .timeout /
# .unreachable.
HELPDESK_ERRORS = ErrorFamily(
    events="helpdesks.http",
    errors={
        Failure.AUTH: (HelpdeskAuthError, "{vendor} refused the credentials ({status})."),
        Failure.NOT_FOUND: (HelpdeskNotFound, "{vendor} has no such ticket ({status})."),
        Failure.RATE_LIMITED: (HelpdeskRateLimited, "{vendor} is throttling requests ({status})."),
        Failure.SERVER_ERROR: (HelpdeskUnavailable, "{vendor} answered {status}."),
        Failure.REJECTED: (HelpdeskBadRequest, "{vendor} refused the request ({status})."),
        Failure.TIMEOUT: (HelpdeskTimeout, "{vendor} did not answer in time."),
        Failure.UNREACHABLE: (HelpdeskUnavailable, "{vendor} could not be reached: {error}."),
        Failure.MALFORMED: (
            HelpdeskUnavailable,
            "{vendor} answered with something that is not JSON.",
        ),
    },
)


# --- the body-HMAC formats (Gorgias, Freshdesk, generic) --------------------------------------

SIGNATURE_HEADER = "X-Copilot-Signature"


def signed_body(
    headers: Any, body: bytes, secret: str, *, tolerance: float
) -> tuple[dict[str, Any], dt.datetime]:
    """The JSON object of a genuine, fresh body-HMAC webhook, and when it was sent.

    HMAC-SHA256 of the raw body, hex, in `X-Copilot-Signature` (an optional `sha256=`
    prefix is accepted); the time it was sent is in the signed body (`sent_at`)."""
    given = headers.get(SIGNATURE_HEADER, "").strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    require_signature(hmac_hex(secret, body), given.lower())
    payload = load_json_object(body)
    if payload.get("sent_at") in (None, ""):
        raise MalformedPayload("'sent_at' is required: the time the event was sent.")
    sent_at = parse_timestamp(payload["sent_at"])
    require_fresh(sent_at, tolerance=tolerance)
    return payload, sent_at


def as_html(value: str) -> str:
    """Plain text as the minimal HTML the HTML-only APIs want, escaped."""
    from django.utils.html import escape

    return escape(value).replace("\n", "<br>")


def same_text(a: str, b: str) -> bool:
    """Equal once whitespace is normalized (helpdesks re-wrap what they store)."""
    return " ".join(a.split()) == " ".join(b.split())
