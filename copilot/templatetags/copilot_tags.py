"""Small presentation helpers; every value stays auto-escaped."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for the raw view of span data (escaped by the template, like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def flat_items(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested data as (dotted key, scalar text) rows for the readable key / value view."""
    rows: list[tuple[str, str]] = []

    def walk(item: Any, path: str) -> None:
        if isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(item, list):
            if not item:
                rows.append((path, "(none)"))
            for index, child in enumerate(item):
                walk(child, f"{path}[{index}]")
        else:
            rows.append((path, "" if item is None else str(item)))

    walk(value, prefix)
    return rows
