"""Every URL the project serves, taken from the resolver (never a hand-kept list), with its
parameters filled from a given world of objects: ids for `<int:...>` / `<path:...>` and
`(?P<x_id>[0-9]+)`, slugs for `<slug:...>`, each literal of an alternation `(a|b|c)`.

A new view is swept the day it is added to a urls.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# How a row of any model is tied to a brand, tried in order: future models are found too.
BRAND_PATHS = (
    "brand",
    "ticket__brand",
    "draft__ticket__brand",
    "trace__brand",
    "order__brand",
    "shipment__order__brand",
    "source__brand",
    "flag__brands",
    "brands",
)

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*(?:\([^()]*\))?[^()]*)\)")
_LITERALS = re.compile(r"^[\w\-]+(?:\|[\w\-]+)+$")
MAX_COMBINATIONS = 6


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern: its parts as written (route or regex, outermost first), its name,
    the view it calls."""

    parts: tuple[tuple[str, str], ...]
    name: str
    callback: Any

    @property
    def route(self) -> str:
        return "".join(text for _, text in self.parts)

    @property
    def parameters(self) -> list[tuple[str, str]]:
        """(name, kind) of each parameter; kind is a converter name or a regex body."""
        found: list[tuple[str, str]] = []
        for kind, text in self.parts:
            if kind == "route":
                found += [(m["name"], m["converter"] or "str") for m in _ROUTE_PARAM.finditer(text)]
            else:
                found += [(m["name"], m["body"]) for m in _REGEX_GROUP.finditer(text)]
        return found

    @property
    def csrf_exempt(self) -> bool:
        return bool(getattr(self.callback, "csrf_exempt", False))

    def url(self, values: dict[str, str]) -> str:
        url = ""
        for kind, text in self.parts:
            if kind == "route":
                url += _ROUTE_PARAM.sub(lambda m: values[m["name"]], text)
            else:
                filled = _REGEX_GROUP.sub(lambda m: values[m["name"]], text)
                url += filled.removeprefix("^").removesuffix("$").replace("\\", "")
        return "/" + url


def endpoints() -> list[Endpoint]:
    """Every URL pattern of the project, nested includes and namespaces resolved."""

    def walk(patterns: list[Any], prefix: tuple, namespace: str) -> Iterator[Endpoint]:
        for pattern in patterns:
            parts = (*prefix, _part_of(pattern.pattern))
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, parts, ns)
            elif isinstance(pattern, URLPattern):
                yield Endpoint(parts, f"{namespace}{pattern.name or ''}", pattern.callback)

    return list(walk(get_resolver().url_patterns, (), ""))


def _part_of(pattern: Any) -> tuple[str, str]:
    if isinstance(pattern, RoutePattern):
        return ("route", str(pattern._route))
    if isinstance(pattern, RegexPattern):
        return ("regex", str(pattern._regex))
    raise TypeError(f"Unknown URL pattern type {type(pattern).__name__}")


def brand_rows(brand: models.Model) -> dict[str, list[int]]:
    """Primary keys of every row of every model tied to `brand`, by lower-case model name."""
    rows: dict[str, list[int]] = {}
    for model in apps.get_models():
        for path in ("pk", *BRAND_PATHS) if model._meta.model_name == "brand" else BRAND_PATHS:
            try:
                if path == "pk":
                    pks = [brand.pk]
                else:
                    pks = list(
                        model._default_manager.filter(**{path: brand})
                        .values_list("pk", flat=True)
                        .distinct()
                    )
            except (FieldError, ValueError, TypeError):
                continue
            if pks:
                rows[model._meta.model_name] = [pk for pk in pks if isinstance(pk, int)]
            break
    return rows


def fillings(endpoint: Endpoint, rows: dict[str, list[int]], slug: str) -> list[dict[str, str]]:
    """Ways to fill `endpoint`'s parameters from `rows` (one brand's world); [] if it has some
    parameter nothing in the world can fill."""
    every_id = sorted({pk for pks in rows.values() for pk in pks})
    choices: list[list[str]] = []
    for name, kind in endpoint.parameters:
        model_name = name.removesuffix("_id").replace("_", "")
        if kind in ("int", "path") or kind in ("[0-9]+", r"\d+"):
            ids = rows.get(model_name) or every_id
            choices.append([str(pk) for pk in ids])
        elif kind == "slug" or name == "slug":
            choices.append([slug])
        elif _LITERALS.match(kind):
            choices.append(kind.split("|"))
        elif kind in ("str", ".+", ".*", "[^/]+", "[^/]+?"):
            choices.append([slug, *(str(pk) for pk in every_id[:1])])
        else:
            choices.append([])
    combos = [
        dict(zip([name for name, _ in endpoint.parameters], combo, strict=True))
        for combo in itertools.product(*choices)
    ]
    return combos[:MAX_COMBINATIONS] if len(combos) > MAX_COMBINATIONS else combos
