"""Shadow runs: a tool at the shadow stage runs after the draft, for measurement only.

Its latency, errors and what it would have returned land in the trace as spans marked
`{"shadow": true}`; nothing it returns reaches the model, the draft or the agent's text.
It asks what the offline workflow would ask (the ticket's first order number, else the
customer's recent orders) and goes through the same context gate as a live call.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.utils import timezone

from audit.models import Span
from audit.records import SpanData
from copilot.agent.engine import execute_tool
from copilot.conf import conf
from copilot.models import Ticket
from copilot.tools import ToolContext, get_tool
from orders.schema import order_numbers_in
from rollout.plan import Plan

logger = logging.getLogger(__name__)


def _span(name: str, started: float, *, kind: str = Span.Kind.TOOL, **fields: Any) -> SpanData:
    elapsed = time.monotonic() - started
    attributes = {"gen_ai.tool.name": name, **fields.pop("attributes", {}), "shadow": True}
    return SpanData(
        kind=kind,
        name=name,
        started_at=timezone.now() - dt.timedelta(seconds=elapsed),
        duration_ms=round(elapsed * 1000),
        attributes=attributes,
        **fields,
    )


def run(*, ticket: Ticket, plan: Plan) -> list[SpanData]:
    """Run each of `plan.shadow_tools` once for `ticket` and return their spans.

    Call after the draft is written. Never raises for a tool fault: a failure is a span.
    """
    order_numbers = order_numbers_in(f"{ticket.subject}\n{ticket.customer_text()}")
    arguments = {"order_number": order_numbers[0]} if order_numbers else {}
    spans = []
    for name in plan.shadow_tools:
        tool = get_tool(name)
        if tool is None:
            continue
        started = time.monotonic()
        if not tool.may_run_for(ticket.customer, arguments):
            spans.append(
                _span(
                    name,
                    started,
                    kind=Span.Kind.GUARDRAIL,
                    status=Span.Status.BLOCKED,
                    error={
                        "code": "missing_customer_context",
                        "message": f"{name} (shadow) blocked: no verified customer email "
                        "and no order number.",
                    },
                )
            )
            continue
        context = ToolContext(
            brand=ticket.brand,
            ticket=ticket,
            customer=ticket.customer,
            ticket_order_numbers=order_numbers,
            deadline=time.monotonic() + conf.COPILOT_TOOL_TIMEOUT_SECONDS,
        )
        output, error = execute_tool(tool, context, arguments)
        if output is None:
            spans.append(
                _span(name, started, arguments=arguments, status=Span.Status.ERROR, error=error)
            )
            continue
        spans.append(
            _span(
                name,
                started,
                arguments=arguments,
                result=output.data,
                attributes=output.attributes,
            )
        )
    logger.info("copilot.shadow.ran", extra={"ticket": ticket.pk, "tools": list(plan.shadow_tools)})
    return spans
