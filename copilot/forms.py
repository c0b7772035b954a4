from __future__ import annotations

from typing import Any

from django import forms


class DraftDecisionForm(forms.Form):
    """An agent's accept / edit / reject of a draft, with the version they loaded."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    text = forms.CharField(required=False, widget=forms.Textarea, strip=False, max_length=20_000)
    reason = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if self.action == "reject" and not str(data.get("reason") or "").strip():
            self.add_error("reason", "Say in a few words why you reject the draft.")
        return data
