"""The order-source form, shared by the brand settings page and the Django admin."""

from __future__ import annotations

from typing import Any

from django import forms

from orders.models import OrderSource
from orders.schema import ALL_FIELDS, DEFAULT_ALLOWED_FIELDS

FIELD_LABELS = {
    "customer_email": "customer_email (personal data)",
    "shipping_address": "shipping_address (personal data)",
    "phone": "phone (personal data)",
}


class OrderSourceForm(forms.ModelForm):
    """Kind, shop URL, credential, timeout and allowed fields.

    The credential is write-only: the input never shows the stored value, and leaving it
    blank keeps it. Switching kind needs the new kind's credential.
    """

    secret = forms.CharField(
        label="Access token / webservice key",
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Shopify: the Admin API access token. PrestaShop: the webservice key. "
        "Leave blank to keep the stored one.",
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

    class Meta:
        model = OrderSource
        fields = ["kind", "shop_url", "secret", "timeout_seconds", "allowed_fields"]

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
            stored_kind = self.initial.get("kind") if self.instance.pk else None
            keeps_secret = stored_kind == kind and bool(self.instance.secret)
            if not data.get("secret") and not keeps_secret:
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
            "secret": data.get("secret", ""),
        }
