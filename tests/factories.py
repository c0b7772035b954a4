"""factory_boy factories for the domain; defaults describe an ordinary identified customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from copilot.models import Brand, Customer, Draft, Membership, Message, Role, Ticket
from orders.models import DemoOrder, DemoShipment, DemoTrackingEvent, OrderSource

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    signature = "The team"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.AGENT


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    brand = factory.SubFactory(BrandFactory)
    external_id = factory.Sequence(lambda n: f"cust-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    email_verified = True
    name = factory.Sequence(lambda n: f"Customer {n}")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    customer = factory.SubFactory(CustomerFactory, brand=factory.SelfAttribute("..brand"))
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    subject = "Where is my order?"

    @factory.post_generation
    def body(obj, create, extracted, **kwargs):
        if create:
            Message.objects.create(ticket=obj, body=extracted or "Hi, where is my order?")


class DraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Draft

    ticket = factory.SubFactory(TicketFactory)
    status = Draft.Status.READY
    body = "Hello, your order is on its way."


class OrderSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderSource

    brand = factory.SubFactory(BrandFactory)
    kind = OrderSource.Kind.DEMO


class DemoOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemoOrder

    brand = factory.SubFactory(BrandFactory)
    customer = factory.SubFactory(CustomerFactory, brand=factory.SelfAttribute("..brand"))
    number = factory.Sequence(lambda n: f"T-{5000 + n}")
    status = "in_transit"
    items = factory.LazyFunction(lambda: [{"title": "Sweater", "quantity": 1}])
    total = Decimal("49.00")
    currency = "EUR"
    estimated_delivery = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=2)).date()
    )
    shipping_address = "1 Secret Street, Springfield"
    phone = "+1 555 0100"
    created_at = factory.LazyFunction(timezone.now)


class DemoShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemoShipment

    order = factory.SubFactory(DemoOrderFactory)
    carrier = "DHL"
    tracking_number = factory.Sequence(lambda n: f"JD{100000 + n}")
    status = "in_transit"


class DemoTrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemoTrackingEvent

    shipment = factory.SubFactory(DemoShipmentFactory)
    time = factory.LazyFunction(timezone.now)
    description = "Departed hub"
