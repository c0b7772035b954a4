"""Fixtures for the engine: the local OpenAI-compatible server and a small order world.

`fetch_orders` reads the database from a thread of its own (see `copilot.agent.engine
._run_tool`); on the in-memory SQLite test database that thread borrows the test's
connection, so engine tests run inside the test's transaction (`django_db`). A test whose
tool thread outlives the run keeps a connection of its own: `django_db(transaction=True)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from copilot.models import Brand, Customer, Ticket
from orders.models import DemoOrder
from tests.factories import (
    CustomerFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    TicketFactory,
)
from tests.fakes.openai_server import OpenAIServer

API_KEY = "sk-test-SECRET-4c1f9e0b7d"


@pytest.fixture
def openai_server(settings) -> Iterator[OpenAIServer]:
    """A running local server, with the settings pointing the real client at it."""
    with OpenAIServer() as server:
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_API_KEY = API_KEY
        settings.OPENAI_MODEL = "fake-gpt"
        settings.OPENAI_TIMEOUT_SECONDS = 5.0
        settings.OPENAI_MAX_RETRIES = 2
        yield server


@dataclass
class World:
    brand: Brand
    ana: Customer
    order: DemoOrder
    victim: Customer
    victim_order: DemoOrder

    def ticket(self, body: str, *, customer: Customer | None = None, subject: str = "") -> Ticket:
        return TicketFactory(
            brand=self.brand, customer=customer or self.ana, subject=subject, body=body
        )


@pytest.fixture
def world(brand, enable_fetch_orders) -> World:
    """Ana (identified) with order NW-2001 on its way with DHL; another customer of the same
    brand with order NW-9001, whose details must never reach Ana's drafts or traces."""
    enable_fetch_orders(brand)
    ana = CustomerFactory(brand=brand, email="ana@example.com", name="Ana")
    order = DemoOrderFactory(brand=brand, customer=ana, number="NW-2001", status="in_transit")
    shipment = DemoShipmentFactory(order=order, carrier="DHL", tracking_number="JD0042")
    DemoTrackingEventFactory(shipment=shipment, description="Departed hub Leipzig")
    victim = CustomerFactory(
        brand=brand, email="victim.vera@example.org", name="Vera Victim", external_id="vera-77"
    )
    victim_order = DemoOrderFactory(
        brand=brand,
        customer=victim,
        number="NW-9001",
        status="delivered",
        shipping_address="9 Hidden Lane, Lyon",
        phone="+33 6 12 34 56 78",
        items=[{"title": "Velvet Armchair", "quantity": 1}],
    )
    DemoShipmentFactory(order=victim_order, carrier="UPS", tracking_number="1Z999VICTIM77")
    return World(brand=brand, ana=ana, order=order, victim=victim, victim_order=victim_order)
