"""Re-encrypt every order source's credentials with the newest key.

Rotation: put the new key first in COPILOT_ENCRYPTION_KEYS (keep the old ones after it),
run this command, then drop the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from orders.models import OrderSource


class Command(BaseCommand):
    help = "Re-encrypt OrderSource credentials with the first key of COPILOT_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            # Loading decrypts with any configured key; saving encrypts with the newest.
            for source in OrderSource.objects.select_for_update().order_by("pk"):
                source.save(update_fields=["credentials"])
                count += 1
        self.stdout.write(f"Re-encrypted the credentials of {count} order source(s).")
