"""Forms of the rollout page. Every change carries a reason; the form says so plainly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from rollout.exceptions import REASON_REQUIRED
from rollout.models import Stage


class _ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        strip=True,
        error_messages={"required": REASON_REQUIRED},
        help_text="Shown in the history beside your name.",
    )


class StageForm(_ReasonForm):
    stage = forms.ChoiceField(choices=Stage.choices, widget=forms.RadioSelect)
    percent = forms.DecimalField(
        required=False,
        min_value=Decimal("0.1"),
        max_value=Decimal("100"),
        decimal_places=1,
        help_text="Share of customers in the treatment arm (percent stage only).",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs allow None
        if data.get("stage") == Stage.PERCENT and data.get("percent") is None:
            self.add_error("percent", "Give the percent of customers to treat.")
        return data


class ExperimentForm(_ReasonForm):
    action = forms.ChoiceField(choices=[("start", "Start"), ("stop", "Stop")])
    name = forms.CharField(max_length=80, required=False, strip=True)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs allow None
        if data.get("action") == "start" and not data.get("name"):
            self.add_error("name", "Name the experiment.")
        return data
