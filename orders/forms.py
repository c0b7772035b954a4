"""The order-source form, shared by the brand settings page and the Django admin."""

from __future__ import annotations

from typing import Any

from django import forms

from orders.models import CarrierSource, OrderSource
from orders.schema import ALL_FIELDS, DEFAULT_ALLOWED_FIELDS
from orders.selectors import order_source_for

# Each order field in words, for the admins who choose what the AI may see.
FIELD_LABELS = {
    "number": "Order number",
    "created_at": "Order date",
    "status": "Status",
    "status_label": "Status in words",
    "financial_status": "Payment status",
    "items": "Items ordered",
    "shipments": "Parcels, carriers and tracking",
    "estimated_delivery": "Estimated delivery date",
    "total": "Order total",
    "currency": "Currency",
    "cancelled_at": "Cancellation date",
    "refunded_total": "Amount refunded",
    "source_status": "Status in the shop's own words",
    "customer_email": "Customer email (personal data)",
    "shipping_address": "Shipping address (personal data)",
    "phone": "Phone number (personal data)",
}


def write_only_secret(*, label: str, help_text: str) -> forms.CharField:
    """A credential input that never shows the stored value; left blank, it keeps it."""
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=f"{help_text} Leave blank to keep the stored one.",
    )


def needs_new_secret(form: forms.ModelForm, kind: str) -> bool:
    """Whether `form` saving `kind` lacks a credential: none typed, and none stored for that
    same kind (switching kind needs the new kind's credential)."""
    stored_kind = form.initial.get("kind") if form.instance.pk else None
    keeps_secret = stored_kind == kind and bool(form.instance.secret)
    return not form.cleaned_data.get("secret") and not keeps_secret


class OrderSourceForm(forms.ModelForm):
    """Kind, shop URL, credential, timeout and allowed fields.

    The credential is write-only: the input never shows the stored value, and leaving it
    blank keeps it. Switching kind needs the new kind's credential.
    """

    secret = write_only_secret(
        label="Access token / webservice key",
        help_text="Shopify: the Admin API access token. PrestaShop: the webservice key.",
    )
    allowed_fields = forms.MultipleChoiceField(
        choices=[(name, FIELD_LABELS.get(name, name)) for name in ALL_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What the model, the trace and the agent may see of an order.",
    )
    shop_url = forms.URLField(
        label="Shop URL",
        required=False,
        assume_scheme="https",
        help_text="Shopify: https://your-shop.myshopify.com. PrestaShop: the shop's base URL.",
    )
    timeout_seconds = forms.FloatField(
        label="Timeout per call (seconds)", min_value=0.5, max_value=30.0, initial=5.0
    )
    no_movement_days = forms.IntegerField(
        label="Stalled after (days without a carrier scan)",
        min_value=0,
        max_value=60,
        required=False,
        help_text="A parcel in transit this long without a scan is flagged for review, and "
        "the draft does not reassure. 0 turns the check off; blank keeps the current value.",
    )

    class Meta:
        model = OrderSource
        fields = [
            "kind",
            "shop_url",
            "secret",
            "timeout_seconds",
            "allowed_fields",
            "no_movement_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("allowed_fields", list(DEFAULT_ALLOWED_FIELDS))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs allow None
        kind = data.get("kind")
        if kind and kind != OrderSource.Kind.DEMO:
            if not data.get("shop_url"):
                self.add_error("shop_url", "The shop URL is needed for this order system.")
            if needs_new_secret(self, kind):
                self.add_error("secret", "Enter the credential for this order system.")
        return data

    def settings(self) -> dict[str, Any]:
        """The valid form as the keyword arguments of `order_source_apply` / `_update`."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "shop_url": data.get("shop_url", ""),
            "timeout_seconds": data["timeout_seconds"],
            "allowed_fields": data.get("allowed_fields", []),
            "no_movement_days": (
                data["no_movement_days"]
                if data.get("no_movement_days") is not None
                else self.instance.no_movement_days
            ),
            "secret": data.get("secret", ""),
        }


class CarrierSourceForm(forms.ModelForm):
    """Kind, API key, API address and timeout of the brand's carrier tracking.

    The API key is write-only like the order source's credential: never shown, blank keeps
    the stored one, switching kind needs the new kind's key. The demo carrier feed only
    knows the demo store's parcels, so it is refused with any other order system.
    """

    secret = write_only_secret(
        label="API key", help_text="AfterShip: an API key of the account (Settings, API keys)."
    )
    api_url = forms.URLField(
        label="API address",
        required=False,
        assume_scheme="https",
        help_text="Leave blank for AfterShip's own, https://api.aftership.com.",
    )
    # Labels apart from the order source's: both forms are on one page.
    timeout_seconds = forms.FloatField(
        label="Carrier timeout per call (seconds)", min_value=0.5, max_value=30.0, initial=3.0
    )

    class Meta:
        model = CarrierSource
        fields = ["kind", "secret", "api_url", "timeout_seconds"]
        labels = {"kind": "Tracking service"}

    def __init__(self, *args: Any, order_kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_kind = order_kind

    def _order_kind(self) -> str:
        """The kind of the brand's order source (the Django admin picks the brand in the
        form itself)."""
        if self.order_kind is not None:
            return self.order_kind
        brand = self.cleaned_data.get("brand") or getattr(self.instance, "brand", None)
        return order_source_for(brand).kind if brand else OrderSource.Kind.DEMO

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs allow None
        kind = data.get("kind")
        if kind == CarrierSource.Kind.DEMO and self._order_kind() != OrderSource.Kind.DEMO:
            self.add_error(
                "kind",
                "The demo carrier feed only knows the demo store's parcels; choose AfterShip "
                "or none for this order system.",
            )
        if kind in CarrierSource.CREDENTIAL_KEYS and needs_new_secret(self, kind):
            self.add_error("secret", "Enter the API key for this tracking service.")
        return data

    def settings(self) -> dict[str, Any]:
        """The valid form as the keyword arguments of `carrier_source_apply` / `_update`."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "api_url": data.get("api_url", ""),
            "timeout_seconds": data["timeout_seconds"],
            "secret": data.get("secret", ""),
        }
