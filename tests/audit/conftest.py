"""Helpers for audit tests: traces recorded through the real `trace_record`."""

from __future__ import annotations

from typing import Any

import pytest

from audit.services import trace_record
from tests.factories import DraftFactory
from tests.traces import trace_data


@pytest.fixture
def make_trace(db):
    """Record a trace for a new ready draft of `brand` (ticket text and customer optional)."""

    def make(brand, *, body: str = "Hi, where is my order?", customer=None, **overrides):
        kwargs: dict[str, Any] = {"ticket__brand": brand, "ticket__body": body}
        if customer is not None:
            kwargs["ticket__customer"] = customer
        draft = DraftFactory(**kwargs)
        return trace_record(draft=draft, data=trace_data(**overrides))

    return make
