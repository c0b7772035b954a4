"""Reads of the helpdesk integrations."""

from __future__ import annotations

from copilot.models import Brand, HelpdeskConnection


def helpdesk_connection_for(brand: Brand) -> HelpdeskConnection | None:
    """The brand's helpdesk connection, or None when it never set one up."""
    return HelpdeskConnection.objects.filter(brand=brand).first()
