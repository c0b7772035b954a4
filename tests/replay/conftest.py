"""Past tickets as the live copilot handled them: ticket, draft, trace, the agent's decision."""

from __future__ import annotations

import pytest

from audit.models import Trace
from copilot.models import Draft
from copilot.services import draft_accept, draft_edit, draft_generate, draft_reject, draft_request
from replay.models import ReplayConfiguration
from replay.services import replay_config_save
from tests.factories import (
    CustomerFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    TicketFactory,
    UserFactory,
)


@pytest.fixture
def past_ticket(db, enable_fetch_orders):
    """Make a ticket, run the live copilot on it (rules provider, demo store, fetch_orders on
    for the brand), and record the agent's decision: "accept", "edit" (with `final_text`),
    "reject" or None; "edit" with no `final_text` sends the draft plus `append`. With `order`,
    the customer has that demo order, shipped with `tracking`. Traces are append-only, so a
    test wanting another recording shapes the live run (`fetch_orders=False`, a failing
    connector) rather than editing the trace. The live run's tool reads the demo store from
    its own thread, through the test's connection (see `copilot.agent.engine._run_tool`)."""
    agent = UserFactory()

    def make(
        brand,
        *,
        body: str,
        subject: str = "Where is my order?",
        order: str = "",
        tracking: str = "JD000001",
        decision: str | None = "accept",
        final_text: str = "",
        append: str = "",
        identified: bool = True,
        fetch_orders: bool = True,
    ) -> Trace:
        if fetch_orders:
            enable_fetch_orders(brand)
        customer = CustomerFactory(brand=brand, email_verified=identified)
        if order:
            demo = DemoOrderFactory(brand=brand, customer=customer, number=order)
            DemoShipmentFactory(order=demo, carrier="DHL", tracking_number=tracking)
        ticket = TicketFactory(brand=brand, customer=customer, subject=subject, body=body)
        draft = draft_request(ticket=ticket, enqueue=False)
        draft_generate(draft_id=draft.pk, provider_name="rules")
        draft = Draft.objects.get(pk=draft.pk)
        if decision == "accept":
            draft_accept(draft=draft, user=agent, expected_version=draft.version)
        elif decision == "edit":
            text = final_text or draft.body + append
            draft_edit(draft=draft, user=agent, expected_version=draft.version, text=text)
        elif decision == "reject":
            draft_reject(draft=draft, user=agent, expected_version=draft.version)
        return Trace.objects.get(draft=draft)

    return make


@pytest.fixture
def rules_config(db):
    def make(brand, name: str = "baseline", **values) -> ReplayConfiguration:
        values = {"provider": "rules", "tools": ["fetch_orders"], **values}
        return replay_config_save(brand=brand, name=name, values=values)

    return make
