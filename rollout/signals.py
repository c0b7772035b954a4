"""Waffle caches which brands a flag is on for; any change to that list flushes it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from rollout.models import BrandFlag


@receiver(m2m_changed, sender=BrandFlag.brands.through)
def flush_flag_brands(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    """Flush after brands are added, removed or cleared, from either side of the relation."""
    if not action.startswith("post_"):
        return
    if isinstance(instance, BrandFlag):
        flags = [instance]
    else:  # a Brand: the flags are given by primary key
        flags = list(BrandFlag.objects.filter(pk__in=kwargs.get("pk_set") or ()))
        if action == "post_clear":
            flags = list(BrandFlag.objects.all())
    for flag in flags:
        transaction.on_commit(flag.flush)
