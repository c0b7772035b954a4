"""Helpdesk integrations: one module per vendor (one per `HelpdeskConnection.Kind`), each with
`LABEL`, `CREDENTIAL_KEYS`, `verify_and_parse` (a signed webhook in) and `make_client`
(replies out). The webhook URL accepts exactly these kinds."""

from __future__ import annotations

from types import ModuleType

from copilot.helpdesks import freshdesk, generic, gorgias, zendesk

VENDORS: dict[str, ModuleType] = {
    "zendesk": zendesk,
    "gorgias": gorgias,
    "freshdesk": freshdesk,
    "generic": generic,
}
