"""Helpdesk integrations: one module per vendor, each with `LABEL`, `verify_and_parse` (a
signed webhook in) and `make_client` (replies out)."""

from __future__ import annotations

from types import ModuleType

from copilot.helpdesks import freshdesk, generic, gorgias, zendesk

VENDORS: dict[str, ModuleType] = {
    "zendesk": zendesk,
    "gorgias": gorgias,
    "freshdesk": freshdesk,
    "generic": generic,
}
