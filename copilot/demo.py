"""The demo world: two brands, their teams, customers, orders and tickets.

`seed_demo` builds it; tests reuse it so the demo and the suite agree on what a
where-is-my-order ticket looks like.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from copilot.models import Brand, Customer, Membership, Role
from copilot.services import ticket_ingest
from orders.models import DemoOrder, DemoShipment, DemoTrackingEvent, OrderSource
from rollout.flags import FETCH_ORDERS
from rollout.models import BrandFlag

DEMO_PASSWORD = "copilot-demo"

KNOWLEDGE = {
    "hours": "Our team answers Monday to Friday, 9:00 to 18:00 (CET).",
    "returns": "You can return any unused item within 30 days; the return label is free.",
    "shipping": "Standard delivery takes 2-4 working days; express delivery arrives the next working day.",
    "password": "You can reset your password from the login page with 'Forgot password?'.",
}


@dataclass(frozen=True)
class DemoBrand:
    name: str
    slug: str
    fetch_orders: bool
    prefix: str


BRANDS = (
    DemoBrand("Northwind Outfitters", "northwind", True, "NW"),
    DemoBrand("Lumen Home", "lumen", False, "LH"),
)

# (customer key, status, carrier, event descriptions) for each demo order.
ORDERS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("alice", "in_transit", "DHL", ["Picked up", "Departed hub Leipzig", "Arrived at hub Paris"]),
    ("bob", "delivered", "UPS", ["Picked up", "Out for delivery", "Delivered, left at front door"]),
    ("chloe", "delivery_exception", "Colissimo", ["Picked up", "Address not found"]),
    ("dan", "in_transit", "DPD", ["Picked up", "Delayed at hub: weather"]),
    ("emma", "out_for_delivery", "GLS", ["Picked up", "Out for delivery"]),
    ("farid", "partially_shipped", "DHL", ["Picked up"]),
    ("gina", "paid", "", []),
)

CUSTOMERS = {
    "alice": ("Alice Martin", True),
    "bob": ("Bob Stone", True),
    "chloe": ("Chloé Dubois", True),
    "dan": ("Dan Okafor", True),
    "emma": ("Emma Rossi", True),
    "farid": ("Farid Haddad", True),
    "gina": ("Gina Park", True),
    "hugo": ("Hugo Lenoir", False),
}

# (external id suffix, customer key or "", subject, body)
TICKETS = (
    (
        "wismo-1",
        "alice",
        "Where is my order?",
        "Hi, I ordered a jacket last week and it still hasn't arrived. Where is my order? Thanks, Alice",
    ),
    (
        "wismo-2",
        "bob",
        "Order {bob}",
        "Hello, can you tell me the status of my order {bob}? The tracking page is confusing.",
    ),
    (
        "wismo-3",
        "chloe",
        "Ma commande",
        "Bonjour, ma commande {chloe} n'est toujours pas arrivée, où en est-elle ? Merci, Chloé",
    ),
    (
        "wismo-4",
        "dan",
        "Late parcel",
        "My parcel was supposed to arrive two days ago. When will it arrive?",
    ),
    ("wismo-5", "emma", "Tracking", "Could you give me the tracking number for my order {emma}?"),
    (
        "wismo-6",
        "farid",
        "Only part of my order came",
        "I only received some of my items from order {farid}. Where is the rest?",
    ),
    ("wismo-7", "gina", "Has it shipped yet?", "Has my order shipped yet? I paid three days ago."),
    (
        "wismo-8",
        "alice",
        "Order {prefix}-9999",
        "Where is my order {prefix}-9999? I haven't received it.",
    ),
    ("wismo-9", "hugo", "Where is my package", "Where is my package?? I've been waiting for ages."),
    ("wismo-10", "", "Status", "Hi, where is my order? Regards"),
    ("faq-1", "bob", "Opening hours", "What are your opening hours?"),
    ("faq-2", "chloe", "Returns", "What is your return policy? I want to send back a sweater."),
    ("faq-3", "emma", "Password", "I forgot my password and can't log in."),
    ("faq-4", "dan", "Shipping options", "What shipping options do you offer to Belgium?"),
    ("faq-5", "farid", "Gift card", "Do you sell gift cards?"),
)


def _order_number(prefix: str, index: int) -> str:
    return f"{prefix}-{1040 + index}"


@transaction.atomic
def seed_brand(spec: DemoBrand, now: dt.datetime) -> tuple[Brand, str]:
    """Create (or reuse) one demo brand with its team, customers and orders; return its token."""
    brand, _ = Brand.objects.update_or_create(
        slug=spec.slug,
        defaults={"name": spec.name, "signature": f"The {spec.name} team", "knowledge": KNOWLEDGE},
    )
    token = brand.rotate_api_token()
    OrderSource.objects.get_or_create(brand=brand, defaults={"kind": OrderSource.Kind.DEMO})
    flag, _ = BrandFlag.objects.get_or_create(name=FETCH_ORDERS, defaults={"everyone": None})
    if spec.fetch_orders:
        flag.brands.add(brand)
    else:
        flag.brands.remove(brand)
    flag.flush()

    user_model = get_user_model()
    for role in Role:
        user, created = user_model.objects.get_or_create(username=f"{spec.slug}-{role.value}")
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.update_or_create(user=user, brand=brand, defaults={"role": role})

    customers = {}
    for key, (name, verified) in CUSTOMERS.items():
        customers[key], _ = Customer.objects.update_or_create(
            brand=brand,
            external_id=f"{spec.slug}-{key}",
            defaults={"name": name, "email": f"{key}@example.com", "email_verified": verified},
        )

    for index, (key, status, carrier, events) in enumerate(ORDERS):
        number = _order_number(spec.prefix, index)
        if DemoOrder.objects.filter(brand=brand, number=number).exists():
            continue
        created_at = now - dt.timedelta(days=6 - index % 3)
        order = DemoOrder.objects.create(
            brand=brand,
            customer=customers[key],
            number=number,
            status=status,
            items=[
                {"title": "Merino sweater", "quantity": 1},
                {"title": "Wool socks", "quantity": 2},
            ],
            total=Decimal("89.90"),
            currency="EUR",
            estimated_delivery=(now + dt.timedelta(days=2)).date(),
            shipping_address="12 Rue de la Paix, 75002 Paris",
            phone="+33 6 12 34 56 78",
            created_at=created_at,
        )
        if carrier:
            shipment = DemoShipment.objects.create(
                order=order,
                carrier=carrier,
                tracking_number=f"{carrier[:2].upper()}{740_000_000 + index * 1_111}",
                tracking_url=f"https://tracking.example.com/{carrier.lower()}/{index}",
                status="in_transit" if status == "partially_shipped" else status,
            )
            for step, description in enumerate(events):
                DemoTrackingEvent.objects.create(
                    shipment=shipment,
                    time=created_at + dt.timedelta(hours=12 * (step + 1)),
                    description=description,
                    location="",
                )
    return brand, token


def seed_tickets(brand: Brand, spec: DemoBrand) -> int:
    """Ingest the demo tickets (idempotent); drafts are generated as they commit."""
    numbers = {key: _order_number(spec.prefix, i) for i, (key, *_rest) in enumerate(ORDERS)}
    created = 0
    for suffix, key, subject, body in TICKETS:
        values = {**numbers, "prefix": spec.prefix}
        customer = Customer.objects.filter(brand=brand, external_id=f"{spec.slug}-{key}").first()
        result = ticket_ingest(
            brand=brand,
            external_id=f"{spec.slug}-{suffix}",
            subject=subject.format(**values),
            body=body.format(**values),
            customer_external_id=customer.external_id if customer else "",
            customer_email=customer.email if customer else "",
            customer_email_verified=customer.email_verified if customer else False,
            customer_name=customer.name if customer else "",
        )
        created += int(result.created)
    return created


def seed_demo() -> list[tuple[Brand, str]]:
    """Build the whole demo world; returns each brand with its fresh intake token."""
    now = timezone.now()
    seeded = []
    for spec in BRANDS:
        brand, token = seed_brand(spec, now)
        seed_tickets(brand, spec)
        seeded.append((brand, token))
    return seeded
