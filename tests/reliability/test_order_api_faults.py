"""The order API slow, down or throttling: the draft still completes within its bounds,
the fault is a structured tool error in the trace, and the reply says plainly that the
order could not be read (never a guess, never a stuck draft).

The real `fetch_orders` handler runs against an order system over HTTP: a small connector
speaking to a local fake API, mapping transport faults to the connector error hierarchy the
way every vendor connector does.
"""

from __future__ import annotations

import time

import httpx
import pytest

from audit.models import Span, Trace
from copilot import services
from copilot.models import Draft
from orders.connectors.base import ConnectorRateLimited, ConnectorTimeout, ConnectorUnavailable
from orders.schema import Order
from tests.factories import DraftFactory, TicketFactory
from tests.fakes.order_api import OrderApi

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class HttpOrderConnector:
    label = "Fault-test order API"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _get(self, path: str, timeout: float) -> dict:
        try:
            response = httpx.get(self.base_url + path, timeout=timeout)
        except httpx.TimeoutException as error:
            raise ConnectorTimeout("The order system did not answer in time.") from error
        except httpx.TransportError as error:
            raise ConnectorUnavailable("The order system cannot be reached.") from error
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After", "0") or 0)
            raise ConnectorRateLimited("The order system is throttling.", retry_after=retry_after)
        if response.status_code >= 500:
            raise ConnectorUnavailable(f"The order system answered {response.status_code}.")
        return response.json()

    def orders_for_customer(self, *, email: str, limit: int, timeout: float) -> list[Order]:
        self._get(f"/orders?limit={limit}", timeout)
        return []

    def order_by_number(self, *, number: str, timeout: float) -> Order | None:
        self._get(f"/orders/{number}", timeout)
        return None


@pytest.fixture
def order_api(monkeypatch, brand, enable_fetch_orders, settings):
    settings.COPILOT_TOOL_TIMEOUT_SECONDS = 1.0
    enable_fetch_orders(brand)
    api = OrderApi().start()
    monkeypatch.setattr("orders.tools.connector_for", lambda source: HttpOrderConnector(api.url))
    yield api
    api.stop()


def _draft_for(brand) -> Draft:
    ticket = TicketFactory(brand=brand, subject="Where is my order?")
    return DraftFactory(ticket=ticket, status=Draft.Status.PENDING, body="")


def _run(brand) -> tuple[Draft, Trace, Span, float]:
    draft = _draft_for(brand)
    started = time.monotonic()
    services.draft_generate(draft_id=draft.pk)
    elapsed = time.monotonic() - started
    draft.refresh_from_db()
    trace = Trace.objects.get(draft=draft)
    span = trace.spans.get(kind=Span.Kind.TOOL, name="fetch_orders")
    return draft, trace, span, elapsed


def test_healthy_order_api_is_read(brand, order_api):
    draft, _trace, span, _ = _run(brand)

    assert span.status == Span.Status.OK
    assert span.attributes["found"] == 0
    assert draft.status == Draft.Status.READY
    assert order_api.requests


@pytest.mark.parametrize(
    ("fault", "code", "retryable"),
    [
        ({"delay": 5.0}, "order_source_timeout", True),
        ({"status": 503}, "order_source_unavailable", True),
        ({"status": 429, "retry_after": 30}, "order_source_throttled", True),
    ],
    ids=["slow", "5xx", "throttling"],
)
def test_order_api_fault_is_traced_and_the_draft_still_answers(
    brand, order_api, fault, code, retryable
):
    for name, value in fault.items():
        setattr(order_api, name, value)

    draft, trace, span, elapsed = _run(brand)

    assert span.status == Span.Status.ERROR
    assert span.error["code"] == code
    assert span.error["retryable"] is retryable
    assert trace.outcome == Trace.Outcome.ANSWERED
    assert draft.status == Draft.Status.READY
    assert "could not read the status of your order" in draft.body
    # Bounded by the tool timeout (1 s), not by the order API's 5 s or its Retry-After.
    assert elapsed < 4.0


def test_order_api_down_is_a_fast_structured_error(brand, order_api):
    order_api.stop()

    draft, _trace, span, elapsed = _run(brand)

    assert span.error["code"] == "order_source_unavailable"
    assert draft.status == Draft.Status.READY
    assert "could not read the status of your order" in draft.body
    assert elapsed < 4.0
