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


@dataclass(frozen=True)
class Scan:
    """One carrier scan, so many days before the seed."""

    days_ago: float
    description: str
    location: str = ""


@dataclass(frozen=True)
class Parcel:
    """A shipment as the shop records it, and what the carrier's own feed says about it."""

    carrier: str
    status: str  # the shop's status of the parcel
    scans: tuple[Scan, ...] = ()
    tracked: bool = True  # False: shipped without a tracking number
    carrier_status: str = ""  # blank: the carrier agrees with the shop
    carrier_expected_in_days: int | None = None
    carrier_synced_hours_ago: float | None = None  # None: the carrier feed answers live


@dataclass(frozen=True)
class DemoOrderSpec:
    customer: str
    status: str
    items: tuple[tuple[str, int], ...]  # a blank title: a product the store no longer knows
    total: str
    placed_days_ago: float
    expected_in_days: int | None  # the shop's delivery estimate, from the seed day
    parcels: tuple[Parcel, ...] = ()
    financial_status: str = "paid"


# A week of a small outdoor shop, numbered NW-1040 onwards in order. The first seven are
# ordinary orders; each one after them shows one data-quality finding (`orders.quality`)
# once the demo carrier feed is merged in, and a ticket below asks about it.
ORDERS: tuple[DemoOrderSpec, ...] = (
    DemoOrderSpec(
        "alice",
        "in_transit",
        (("Alpine down jacket", 1),),
        "229.00",
        3,
        1,
        (
            Parcel(
                "DHL",
                "in_transit",
                (
                    Scan(2.6, "Picked up", "Leipzig, DE"),
                    Scan(2.0, "Departed hub Leipzig", "Leipzig, DE"),
                    Scan(0.9, "Arrived at hub Paris", "Paris, FR"),
                ),
            ),
        ),
    ),
    DemoOrderSpec(
        "bob",
        "delivered",
        (("Trail running shoes", 1),),
        "139.00",
        6,
        -4,
        (
            Parcel(
                "UPS",
                "delivered",
                (
                    Scan(5.5, "Picked up", "Koeln, DE"),
                    Scan(4.2, "Out for delivery", "Nantes, FR"),
                    Scan(4.0, "Delivered, left at front door", "Nantes, FR"),
                ),
            ),
        ),
    ),
    DemoOrderSpec(
        "chloe",
        "delivery_exception",
        (("Merino wool sweater", 1),),
        "89.90",
        5,
        2,
        (
            Parcel(
                "Colissimo",
                "delivery_exception",
                (Scan(4.5, "Picked up", "Roissy, FR"), Scan(1.0, "Address not found", "Lyon, FR")),
            ),
        ),
    ),
    # Late and stalled: the estimate passed two days ago, no scan for a week.
    DemoOrderSpec(
        "dan",
        "in_transit",
        (("Insulated water bottle", 2),),
        "49.80",
        9,
        -2,
        (
            Parcel(
                "DPD",
                "in_transit",
                (
                    Scan(8.5, "Picked up", "Strasbourg, FR"),
                    Scan(7.0, "Delayed at hub: weather", "Lille, FR"),
                ),
            ),
        ),
    ),
    DemoOrderSpec(
        "emma",
        "out_for_delivery",
        (("Wool beanie", 1), ("Touchscreen gloves", 1)),
        "54.00",
        2,
        0,
        (
            Parcel(
                "GLS",
                "out_for_delivery",
                (Scan(1.5, "Picked up", "Lyon, FR"), Scan(0.2, "Out for delivery", "Grenoble, FR")),
            ),
        ),
    ),
    DemoOrderSpec(
        "farid",
        "partially_shipped",
        (("Camping stove", 1), ("Gas canister", 2), ("Titanium mug", 1)),
        "112.50",
        3,
        2,
        (Parcel("DHL", "in_transit", (Scan(2.0, "Picked up", "Leipzig, DE"),)),),
    ),
    DemoOrderSpec("gina", "paid", (("Hiking socks, 3-pack", 1),), "24.90", 3, 3),
    # status_conflict: the shop marked it delivered, the carrier reports a failed delivery.
    DemoOrderSpec(
        "ines",
        "delivered",
        (("Merino base layer", 1),),
        "79.00",
        4,
        -1,
        (
            Parcel(
                "Colissimo",
                "delivered",
                (
                    Scan(3.0, "Picked up", "Roissy, FR"),
                    Scan(1.2, "Out for delivery", "Lyon, FR"),
                    Scan(1.0, "Delivery attempted: recipient absent, held at the post office"),
                ),
                carrier_status="delivery_exception",
            ),
        ),
    ),
    # no_movement: no scan for seven days, though both estimates are still ahead.
    DemoOrderSpec(
        "jonas",
        "in_transit",
        (("Rain shell jacket", 1),),
        "189.00",
        11,
        1,
        (
            Parcel(
                "DHL",
                "in_transit",
                (
                    Scan(10.0, "Picked up", "Hamburg, DE"),
                    Scan(9.0, "Departed international hub", "Hamburg, DE"),
                    Scan(7.0, "Arrived at customs", "Roissy, FR"),
                ),
                carrier_expected_in_days=1,
            ),
        ),
    ),
    # eta_passed: still moving, but the shop's estimate was two days ago.
    DemoOrderSpec(
        "kofi",
        "in_transit",
        (("Trekking poles", 1),),
        "95.00",
        6,
        -2,
        (
            Parcel(
                "GLS",
                "in_transit",
                (
                    Scan(5.0, "Picked up", "Lyon, FR"),
                    Scan(0.5, "Arrived at delivery depot", "Bordeaux, FR"),
                ),
            ),
        ),
    ),
    # missing_tracking: shipped, but the warehouse recorded no tracking number.
    DemoOrderSpec(
        "lena",
        "in_transit",
        (("Yoga mat", 1), ("Cork block", 2)),
        "68.00",
        4,
        2,
        (Parcel("Colissimo", "in_transit", tracked=False),),
    ),
    # no_carrier_scan: the shop says shipped; the carrier only has the label.
    DemoOrderSpec(
        "marco",
        "in_transit",
        (("Sleeping bag -5 °C", 1),),
        "149.00",
        3,
        2,
        (Parcel("DPD", "in_transit", carrier_status="placed"),),
    ),
    # refunded_but_fulfilled: refunded in full, yet the parcel is on the road.
    DemoOrderSpec(
        "nadia",
        "refunded",
        (("Waterproof hiking boots", 1),),
        "169.00",
        5,
        2,
        (
            Parcel(
                "UPS",
                "in_transit",
                (
                    Scan(1.0, "Picked up", "Koeln, DE"),
                    Scan(0.4, "Departed facility", "Liege, BE"),
                ),
            ),
        ),
        financial_status="refunded",
    ),
    # cancelled_but_fulfilled: cancelled the day after, shipped anyway.
    DemoOrderSpec(
        "oscar",
        "cancelled",
        (("Camping hammock", 1),),
        "59.00",
        3,
        None,
        (Parcel("GLS", "in_transit", (Scan(0.8, "Picked up", "Lyon, FR"),)),),
        financial_status="voided",
    ),
    # partial_response: one line is a product the store no longer knows.
    DemoOrderSpec(
        "pauline",
        "in_transit",
        (("Headlamp 400 lm", 1), ("", 1)),
        "84.00",
        2,
        2,
        (Parcel("DHL", "in_transit", (Scan(1.2, "Picked up", "Leipzig, DE"),)),),
    ),
    # stale_data: the carrier feed last synced this parcel five hours ago.
    DemoOrderSpec(
        "quentin",
        "in_transit",
        (("Insulated water bottle 750 ml", 2),),
        "54.00",
        2,
        2,
        (
            Parcel(
                "UPS",
                "in_transit",
                (Scan(1.5, "Picked up", "Lille, FR"), Scan(0.3, "Departed hub", "Paris, FR")),
                carrier_synced_hours_ago=5,
            ),
        ),
    ),
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
    "ines": ("Inès Moreau", True),
    "jonas": ("Jonas Weber", True),
    "kofi": ("Kofi Mensah", True),
    "lena": ("Lena Fischer", True),
    "marco": ("Marco Bianchi", True),
    "nadia": ("Nadia Benali", True),
    "oscar": ("Oscar Lindqvist", True),
    "pauline": ("Pauline Girard", True),
    "quentin": ("Quentin Fabre", True),
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
    (
        "wismo-11",
        "ines",
        "Says delivered, nothing here",
        "Hello, your website says order {ines} was delivered yesterday, but I have nothing. "
        "Where is it?",
    ),
    (
        "wismo-12",
        "jonas",
        "Tracking stuck for a week",
        "The tracking for my order {jonas} has said 'arrived at customs' for a week. Is it stuck?",
    ),
    (
        "wismo-13",
        "kofi",
        "Order {kofi} is late",
        "My order {kofi} should have arrived by now. What is happening?",
    ),
    (
        "wismo-14",
        "lena",
        "No tracking number",
        "Could you send me the tracking number for order {lena}? The shipping email had none.",
    ),
    (
        "wismo-15",
        "marco",
        "Label created, nothing since",
        "The tracking link for order {marco} says a label was created three days ago and "
        "nothing since. Has it really shipped?",
    ),
    (
        "wismo-16",
        "nadia",
        "Refunded but shipped?",
        "I received a refund for order {nadia} yesterday, but today UPS says the parcel is on "
        "its way to me. Do I need to do anything?",
    ),
    (
        "wismo-17",
        "oscar",
        "Cancelled order shipped",
        "I cancelled order {oscar} the day after I placed it, but now I got a shipping "
        "notification. Where is my order now?",
    ),
    ("wismo-18", "pauline", "Order {pauline}", "Hi, where is my order {pauline}? Thanks, Pauline"),
    (
        "wismo-19",
        "quentin",
        "Bottles",
        "Hi, where is my order {quentin}? The tracking hasn't changed since this morning.",
    ),
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

    for index, spec_order in enumerate(ORDERS):
        _seed_order(brand, customers, _order_number(spec.prefix, index), index, spec_order, now)
    return brand, token


# Tracking numbers shaped like each carrier's own.
_TRACKING_FORMATS = {
    "DHL": "JD01460000{:08d}",
    "UPS": "1Z999AA1{:010d}",
    "Colissimo": "6A{:011d}",
    "DPD": "0150{:010d}",
    "GLS": "{:011d}",
}


def _seed_order(
    brand: Brand,
    customers: dict[str, Customer],
    number: str,
    index: int,
    spec: DemoOrderSpec,
    now: dt.datetime,
) -> None:
    """Create one demo order with its parcels and scans, unless it exists already."""
    if DemoOrder.objects.filter(brand=brand, number=number).exists():
        return
    order = DemoOrder.objects.create(
        brand=brand,
        customer=customers[spec.customer],
        number=number,
        status=spec.status,
        financial_status=spec.financial_status,
        items=[{"title": title, "quantity": quantity} for title, quantity in spec.items],
        total=Decimal(spec.total),
        currency="EUR",
        estimated_delivery=(
            (now + dt.timedelta(days=spec.expected_in_days)).date()
            if spec.expected_in_days is not None
            else None
        ),
        shipping_address="12 Rue de la Paix, 75002 Paris",
        phone="+33 6 12 34 56 78",
        created_at=now - dt.timedelta(days=spec.placed_days_ago),
    )
    for parcel in spec.parcels:
        shape = _TRACKING_FORMATS.get(parcel.carrier, "{:012d}")
        shipment = DemoShipment.objects.create(
            order=order,
            carrier=parcel.carrier,
            tracking_number=shape.format(740_000 + index * 1_111) if parcel.tracked else "",
            tracking_url=(
                f"https://tracking.example.com/{parcel.carrier.lower()}/{index}"
                if parcel.tracked
                else ""
            ),
            status=parcel.status,
            carrier_status=parcel.carrier_status,
            carrier_expected_delivery=(
                (now + dt.timedelta(days=parcel.carrier_expected_in_days)).date()
                if parcel.carrier_expected_in_days is not None
                else None
            ),
            carrier_synced_at=(
                now - dt.timedelta(hours=parcel.carrier_synced_hours_ago)
                if parcel.carrier_synced_hours_ago is not None
                else None
            ),
        )
        DemoTrackingEvent.objects.bulk_create(
            DemoTrackingEvent(
                shipment=shipment,
                time=now - dt.timedelta(days=scan.days_ago),
                description=scan.description,
                location=scan.location,
            )
            for scan in parcel.scans
        )


def seed_tickets(brand: Brand, spec: DemoBrand) -> int:
    """Ingest the demo tickets (idempotent); drafts are generated as they commit."""
    numbers = {order.customer: _order_number(spec.prefix, i) for i, order in enumerate(ORDERS)}
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
