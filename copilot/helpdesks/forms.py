"""The helpdesk connection form. Secret fields render empty and a blank one keeps what is stored."""

from __future__ import annotations

from django import forms

from copilot.models import HelpdeskConnection


class HelpdeskConnectionForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="API base URL",
        help_text="e.g. https://acme.zendesk.com, https://acme.gorgias.com, https://acme.freshdesk.com",
    )
    api_user = forms.CharField(
        required=False,
        max_length=254,
        label="API user",
        help_text="Zendesk: agent e-mail. Gorgias: API user e-mail. Leave blank to keep.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    api_secret = forms.CharField(
        required=False,
        max_length=500,
        label="API token / key",
        help_text="Zendesk API token, Gorgias or Freshdesk API key, generic bearer token. Leave blank to keep.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    secret = forms.CharField(
        required=False,
        max_length=500,
        label="Webhook signing secret",
        help_text="The secret the helpdesk (or its relay) signs webhooks with. Leave blank to keep.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = HelpdeskConnection
        fields = ["kind", "base_url", "reply_mode", "enabled", "timeout_seconds"]

    def clean_timeout_seconds(self) -> float:
        value = self.cleaned_data["timeout_seconds"]
        if not 1 <= value <= 60:
            raise forms.ValidationError("Between 1 and 60 seconds.")
        return value
