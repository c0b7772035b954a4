"""Where a brand's orders come from, and the built-in demo store."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from copilot.crypto import EncryptedJSONField
from copilot.models import Brand, Customer
from orders.schema import DEFAULT_ALLOWED_FIELDS, OrderStatus


def default_allowed_fields() -> list[str]:
    return list(DEFAULT_ALLOWED_FIELDS)


class OneSecretPerKind:
    """A brand's connection to an outside service whose kind needs one stored secret, named
    in `CREDENTIAL_KEYS` (kind -> key inside the encrypted `credentials`)."""

    CREDENTIAL_KEYS: ClassVar[dict[str, str]] = {}
    kind: str
    credentials: Any

    @property
    def secret(self) -> str:
        """The stored credential for this kind ("" if none); never render it."""
        key = self.CREDENTIAL_KEYS.get(self.kind, "")
        credentials = self.credentials if isinstance(self.credentials, dict) else {}
        return str(credentials.get(key, "")) if key else ""


class OrderSource(OneSecretPerKind, models.Model):
    """The order system `fetch_orders` reads for one brand."""

    class Kind(models.TextChoices):
        DEMO = "demo", "Demo store"
        SHOPIFY = "shopify", "Shopify"
        PRESTASHOP = "prestashop", "PrestaShop"

    # The one credential each kind needs, by its name inside `credentials`.
    CREDENTIAL_KEYS: ClassVar[dict[str, str]] = {
        Kind.SHOPIFY: "access_token",
        Kind.PRESTASHOP: "api_key",
    }

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="order_source")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DEMO)
    shop_url = models.URLField(blank=True)
    credentials = EncryptedJSONField(
        blank=True,
        default=dict,
        help_text="Encrypted at rest: {'access_token': ...} (Shopify) or {'api_key': ...}.",
    )
    timeout_seconds = models.FloatField(
        default=5.0, help_text="Per HTTP call; a lookup also stops at the run's deadline."
    )
    allowed_fields = models.JSONField(
        default=default_allowed_fields,
        help_text="Order fields the model, the trace and the agent may see.",
    )
    no_movement_days = models.PositiveSmallIntegerField(
        default=5,
        help_text="A parcel in transit with no carrier scan for longer than this is stalled.",
    )

    def __str__(self) -> str:
        return f"{self.brand}: {self.get_kind_display()}"


class CarrierSource(OneSecretPerKind, models.Model):
    """Where `fetch_orders` asks the carriers about the parcels of a brand's orders.

    A brand without one gets the demo carrier feed when it uses the demo store, and no
    carrier lookups otherwise (see `orders.selectors.carrier_source_for`).
    """

    class Kind(models.TextChoices):
        NONE = "none", "None (no carrier lookups)"
        DEMO = "demo", "Demo carrier feed (demo store only)"
        AFTERSHIP = "aftership", "AfterShip"

    CREDENTIAL_KEYS: ClassVar[dict[str, str]] = {Kind.AFTERSHIP: "api_key"}

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="carrier_source")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NONE)
    api_url = models.URLField(
        blank=True, help_text="The service's API address; blank for its public one."
    )
    credentials = EncryptedJSONField(
        blank=True, default=dict, help_text="Encrypted at rest: {'api_key': ...} (AfterShip)."
    )
    timeout_seconds = models.FloatField(
        default=3.0, help_text="Per HTTP call; a lookup also stops at the run's deadline."
    )

    def __str__(self) -> str:
        return f"{self.brand}: {self.get_kind_display()}"


STATUS_CHOICES = [(status.value, status.value.replace("_", " ")) for status in OrderStatus]


class DemoOrder(models.Model):
    """An order in the built-in store, so the product works with no order system at all."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="demo_orders")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="demo_orders")
    number = models.CharField(max_length=40)
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    financial_status = models.CharField(max_length=24, default="paid")
    items = models.JSONField(default=list, help_text='[{"title": ..., "quantity": ...}]')
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    estimated_delivery = models.DateField(null=True, blank=True)
    shipping_address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "number"], name="demo_order_unique_number")
        ]

    def __str__(self) -> str:
        return self.number


class DemoShipment(models.Model):
    order = models.ForeignKey(DemoOrder, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=60)
    tracking_number = models.CharField(max_length=60)
    tracking_url = models.URLField(blank=True)
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    # The demo store's carrier feed: what the carrier reports for this parcel (blank: the
    # same as the shop) and its own delivery estimate. Its scans are the shipment's events.
    carrier_status = models.CharField(max_length=24, choices=STATUS_CHOICES, blank=True)
    carrier_expected_delivery = models.DateField(null=True, blank=True)
    # When the feed last synced this parcel from the carrier; blank: it answers live.
    carrier_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class DemoTrackingEvent(models.Model):
    shipment = models.ForeignKey(DemoShipment, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField()
    description = models.CharField(max_length=300)
    location = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return self.description
