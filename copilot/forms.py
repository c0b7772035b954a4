from __future__ import annotations

from django import forms


class DraftDecisionForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    text = forms.CharField(required=False, widget=forms.Textarea, strip=False, max_length=20_000)
    reason = forms.CharField(required=False, max_length=300)
