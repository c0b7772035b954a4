from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from copilot.crypto import EncryptedJSONField


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key of COPILOT_ENCRYPTION_KEYS. "
        "Run after putting a new key first; remove the old keys once it has finished."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedJSONField)]
            if not fields:
                continue
            rotated = 0
            for row in model._base_manager.only("pk", *fields).iterator():
                # Reading decrypts with whichever key still opens the value; writing encrypts
                # with the newest. Empty secrets are stored as "" and stay so.
                with transaction.atomic():
                    model._base_manager.filter(pk=row.pk).update(
                        **{name: getattr(row, name) for name in fields}
                    )
                rotated += 1
            self.stdout.write(f"{model._meta.label}: {rotated} rows re-encrypted")
