"""Forms of the audit pages: list filters, a verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from audit.models import CONTROL, TREATMENT, Trace, Verdict
from audit.selectors import TraceFilters
from copilot.models import Brand
from copilot.tools import registered_tool_names

ANY = [("", "Any")]


class TraceFilterForm(forms.Form):
    brand = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tool = forms.ChoiceField(required=False)
    outcome = forms.ChoiceField(required=False, choices=[*ANY, *Trace.Outcome.choices])
    arm = forms.ChoiceField(
        required=False, choices=[*ANY, (TREATMENT, "Treatment"), (CONTROL, "Control")]
    )
    verdict = forms.ChoiceField(
        required=False, choices=[*ANY, ("unreviewed", "Not reviewed yet"), *Verdict.choices]
    )
    sensitive = forms.ChoiceField(
        required=False, choices=[*ANY, ("yes", "Sensitive"), ("no", "Not sensitive")]
    )
    grounding = forms.ChoiceField(required=False, choices=[*ANY, *Trace.Grounding.choices])

    def __init__(
        self, *args: Any, brands: list[Brand], fixed_sensitive: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.brands = brands
        brand = cast(forms.ChoiceField, self.fields["brand"])
        brand.choices = [("", "All my brands"), *((b.slug, b.name) for b in brands)]
        tool = cast(forms.ChoiceField, self.fields["tool"])
        tool.choices = [
            *ANY,
            *((name, name) for name in registered_tool_names()),
            ("none", "No tool call"),
        ]
        if fixed_sensitive:
            del self.fields["sensitive"]

    def filters(self, *, sensitive: bool | None = None) -> TraceFilters:
        """The filters the valid form describes (call after `is_valid()`)."""
        data = self.cleaned_data
        slug = data.get("brand")
        brand_ids = tuple(b.pk for b in self.brands if not slug or b.slug == slug)
        if sensitive is None and data.get("sensitive"):
            sensitive = data["sensitive"] == "yes"
        return TraceFilters(
            brand_ids=brand_ids,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            tool=data.get("tool") or "",
            outcome=data.get("outcome") or "",
            arm=data.get("arm") or "",
            verdict=data.get("verdict") or "",
            sensitive=sensitive,
            grounding=data.get("grounding") or "",
        )


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class MetricsForm(forms.Form):
    days = forms.IntegerField(required=False, min_value=1, max_value=366)

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        days = (self.cleaned_data.get("days") if self.is_valid() else None) or 30
        return today - dt.timedelta(days=days - 1), today
