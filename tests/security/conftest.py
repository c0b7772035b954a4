"""Two brands' worlds for the security sweep: everything brand B owns carries a marker that
must never appear in a page served to anyone of brand A."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from audit.records import SpanData, TraceData
from audit.services import trace_record
from copilot.models import Brand, Draft, Role
from orders.models import OrderSource
from tests.factories import (
    BrandFactory,
    CustomerFactory,
    DemoOrderFactory,
    DemoShipmentFactory,
    DemoTrackingEventFactory,
    DraftFactory,
    MembershipFactory,
    TicketFactory,
)

MARKERS = (
    "ZETA-SECRET-SUBJECT",
    "ZETA-SECRET-BODY",
    "ZETA-SECRET-DRAFT",
    "zeta-secret@example.com",
    "ZETA-9001",
    "ZETATRACK",
    "Zeta Secret Brand",
)


@dataclass(frozen=True)
class World:
    brand: Brand
    draft: Draft


def build_world(*, name: str, secret: bool, enable_fetch_orders) -> World:
    """A brand with a member, a customer, an order, a ticket, a draft and its trace."""
    tag = "ZETA-SECRET" if secret else name.upper()
    brand = BrandFactory(name="Zeta Secret Brand" if secret else name)
    MembershipFactory(brand=brand, role=Role.ADMIN)
    customer = CustomerFactory(
        brand=brand, email="zeta-secret@example.com" if secret else f"{name}@example.com"
    )
    order = DemoOrderFactory(
        brand=brand, customer=customer, number="ZETA-9001" if secret else f"{name.upper()}-1"
    )
    shipment = DemoShipmentFactory(
        order=order, tracking_number="ZETATRACK1" if secret else f"{name.upper()}TRACK"
    )
    DemoTrackingEventFactory(shipment=shipment)
    OrderSource.objects.create(brand=brand)
    enable_fetch_orders(brand)
    ticket = TicketFactory(
        brand=brand, customer=customer, subject=f"{tag}-SUBJECT", body=f"{tag}-BODY"
    )
    draft = DraftFactory(ticket=ticket, body=f"{tag}-DRAFT")
    trace_record(
        draft=draft,
        data=TraceData(
            provider="rules",
            model="rules-v1",
            prompt_version="v1",
            plan={"available_tools": ["fetch_orders"]},
            outcome="answered",
            iterations=2,
            tool_calls_count=1,
            tools_used=["fetch_orders"],
            tokens_in=0,
            tokens_out=0,
            latency_ms=5,
            spans=[
                SpanData(
                    kind="tool",
                    name="fetch_orders",
                    started_at=draft.created_at,
                    arguments={"order_number": order.number},
                    result={"orders": [{"number": order.number}]},
                )
            ],
        ),
    )
    return World(brand=brand, draft=draft)


@pytest.fixture
def worlds(db, enable_fetch_orders) -> tuple[World, World]:
    """(brand A's world, brand B's secret world)."""
    own = build_world(name="alpha", secret=False, enable_fetch_orders=enable_fetch_orders)
    foreign = build_world(name="zeta", secret=True, enable_fetch_orders=enable_fetch_orders)
    return own, foreign
