"""The one mapping from an HTTP answer (or an httpx failure) to a typed error, as the order
connectors and the helpdesk clients both use it."""

from __future__ import annotations

import httpx
import pytest

from audit.exceptions import AuditError, DraftHeld
from copilot.errors import CodedError, OutboundError
from copilot.exceptions import CopilotError
from copilot.helpdesks import base as helpdesks
from copilot.outbound import Failure, failure_for_status, json_answer, send
from orders.connectors import base as orders
from orders.connectors.http import ORDER_ERRORS
from replay.exceptions import ReplayError
from rollout.exceptions import RolloutError


def client(handler) -> httpx.Client:
    return httpx.Client(base_url="https://api.test", transport=httpx.MockTransport(handler))


def answer(status: int, **kwargs) -> httpx.Client:
    return client(lambda request: httpx.Response(status, **kwargs))


def helpdesk_call(http: httpx.Client) -> httpx.Response:
    return send(
        helpdesks.HELPDESK_ERRORS,
        http,
        "GET",
        "/x",
        event={"vendor": "Zendesk"},
        context={"vendor": "Zendesk"},
    )


def order_call(http: httpx.Client) -> httpx.Response:
    return send(ORDER_ERRORS, http, "GET", "/x", event={}, context={"timeout": 2.0})


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (200, None),
        (204, None),
        (301, Failure.REJECTED),
        (400, Failure.REJECTED),
        (401, Failure.AUTH),
        (403, Failure.AUTH),
        (404, Failure.NOT_FOUND),
        (409, Failure.REJECTED),
        (429, Failure.RATE_LIMITED),
        (500, Failure.SERVER_ERROR),
        (503, Failure.SERVER_ERROR),
    ],
)
def test_the_status_table(status, failure):
    assert failure_for_status(status) is failure


@pytest.mark.parametrize(
    ("status", "order_error", "helpdesk_error", "retryable"),
    [
        (302, orders.ConnectorBadResponse, helpdesks.HelpdeskBadRequest, False),
        (401, orders.ConnectorAuthError, helpdesks.HelpdeskAuthError, False),
        (404, orders.ConnectorNotFound, helpdesks.HelpdeskNotFound, False),
        (422, orders.ConnectorBadResponse, helpdesks.HelpdeskBadRequest, False),
        (429, orders.ConnectorRateLimited, helpdesks.HelpdeskRateLimited, True),
        (502, orders.ConnectorUnavailable, helpdesks.HelpdeskUnavailable, True),
    ],
)
def test_each_family_raises_its_own_class_for_a_status(
    status, order_error, helpdesk_error, retryable
):
    with pytest.raises(order_error) as raised:
        order_call(answer(status))
    assert type(raised.value) is order_error and raised.value.retryable is retryable
    with pytest.raises(helpdesk_error) as raised:
        helpdesk_call(answer(status))
    assert type(raised.value) is helpdesk_error and raised.value.retryable is retryable


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_read_for_429_and_5xx_only(status):
    for call in (order_call, helpdesk_call):
        with pytest.raises(OutboundError) as raised:
            call(answer(status, headers={"Retry-After": "7"}))
        assert raised.value.retry_after == 7.0
    with pytest.raises(OutboundError) as raised:
        helpdesk_call(answer(400, headers={"Retry-After": "7"}))
    assert raised.value.retry_after is None


def test_messages_stay_plain_english():
    with pytest.raises(OutboundError) as raised:
        helpdesk_call(answer(503))
    assert raised.value.message == "Zendesk answered 503."
    with pytest.raises(OutboundError) as raised:
        order_call(answer(503))
    assert raised.value.message == "The order system failed (503)."


def test_timeouts_and_transport_errors_are_typed_and_chained():
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request):
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(orders.ConnectorTimeout, match=r"within 2\.0 s") as raised:
        order_call(client(timeout))
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
    with pytest.raises(helpdesks.HelpdeskTimeout, match="Zendesk did not answer in time"):
        helpdesk_call(client(timeout))
    with pytest.raises(orders.ConnectorUnavailable) as raised:
        order_call(client(refused))
    assert type(raised.value) is orders.ConnectorUnavailable
    with pytest.raises(helpdesks.HelpdeskUnavailable, match="Connection refused"):
        helpdesk_call(client(refused))


def test_a_body_that_is_not_json_keeps_each_familys_class():
    response = order_call(answer(200, content=b"<html>"))
    with pytest.raises(orders.ConnectorBadResponse):
        json_answer(ORDER_ERRORS, response)
    with pytest.raises(helpdesks.HelpdeskUnavailable, match="not JSON"):
        json_answer(helpdesks.HELPDESK_ERRORS, response, vendor="Zendesk")
    assert json_answer(ORDER_ERRORS, order_call(answer(200, json={"a": 1}))) == {"a": 1}


def test_every_app_error_is_one_coded_error():
    for base in (CopilotError, RolloutError, AuditError, ReplayError, OutboundError):
        assert issubclass(base, CodedError)
    for error in (orders.ConnectorError, helpdesks.HelpdeskError):
        assert issubclass(error, OutboundError)
    assert issubclass(helpdesks.WebhookRejected, CopilotError)
    held = DraftHeld("Waits for a lead.")
    assert (held.code, held.status, held.as_dict()) == (
        "draft_held",
        409,
        {"code": "draft_held", "message": "Waits for a lead."},
    )
