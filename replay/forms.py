"""Forms of the replay page: a configuration version, and which tickets to replay with what."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone

from audit.models import Trace
from copilot.agent import prompts
from copilot.models import Brand, Draft
from copilot.tools import registered_tool_names
from replay.models import ReplayConfiguration
from replay.selectors import ReplayFilters, configs_latest

MAX_TICKETS = 5000
DEFAULT_DAYS = 30


class ReplayConfigForm(forms.Form):
    """The settings of one configuration version; the name is set once, on creation."""

    name = forms.SlugField(max_length=60, help_text="Letters, digits, - and _.")
    provider = forms.ChoiceField(choices=ReplayConfiguration.Provider.choices)
    model = forms.CharField(max_length=120, required=False)
    prompt_version = forms.ChoiceField(choices=[(prompts.VERSION, prompts.VERSION)])
    tools = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    max_iterations = forms.IntegerField(min_value=1, max_value=10, initial=4)
    run_deadline_seconds = forms.FloatField(min_value=1, max_value=600, initial=60)
    tool_timeout_seconds = forms.FloatField(min_value=0.5, max_value=120, initial=10)
    tone = forms.CharField(max_length=120, required=False)
    reply_language = forms.CharField(max_length=8, required=False)
    price_in_per_mtok = forms.DecimalField(min_value=0, max_digits=10, decimal_places=4, initial=0)
    price_out_per_mtok = forms.DecimalField(min_value=0, max_digits=10, decimal_places=4, initial=0)

    def __init__(self, *args: Any, fixed_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tools = cast(forms.MultipleChoiceField, self.fields["tools"])
        tools.choices = [(name, name) for name in registered_tool_names()]
        if fixed_name is not None:
            self.fields["name"].initial = fixed_name
            self.fields["name"].disabled = True

    def values(self) -> dict[str, Any]:
        """The configuration fields, as `replay_config_save` takes them."""
        data = dict(self.cleaned_data)
        data.pop("name")
        data["tools"] = sorted(data["tools"])
        return data


class ReplayStartForm(forms.Form):
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tool = forms.ChoiceField(required=False, label="Tool used")
    outcome = forms.ChoiceField(required=False, choices=[("", "any"), *Trace.Outcome.choices])
    decision = forms.ChoiceField(
        required=False,
        label="Agent's decision",
        choices=[("", "any"), ("sent", "Sent (accepted or edited)"), *Draft.Decision.choices],
    )
    limit = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_TICKETS, label="At most (tickets)"
    )
    config_a = forms.ModelChoiceField(queryset=ReplayConfiguration.objects.none(), label="Config A")
    config_b = forms.ModelChoiceField(
        queryset=ReplayConfiguration.objects.none(), required=False, label="Config B"
    )

    def __init__(self, *args: Any, brand: Brand, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        latest = ReplayConfiguration.objects.filter(pk__in=[c.pk for c in configs_latest(brand)])
        for name in ("config_a", "config_b"):
            cast("forms.ModelChoiceField[ReplayConfiguration]", self.fields[name]).queryset = latest
        tool = cast(forms.ChoiceField, self.fields["tool"])
        tool.choices = [("", "any"), *((n, n) for n in registered_tool_names())]
        self.fields["since"].initial = timezone.localdate() - dt.timedelta(days=DEFAULT_DAYS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns; the stubs allow None
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> ReplayFilters:
        data = self.cleaned_data
        return ReplayFilters(
            since=data["since"],
            until=data.get("until"),
            tool=data.get("tool") or "",
            outcome=data.get("outcome") or "",
            decision=data.get("decision") or "",
            limit=MAX_TICKETS if data.get("limit") is None else data["limit"],
        )
