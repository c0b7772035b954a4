from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from copilot.demo import BRANDS, DEMO_PASSWORD, seed_demo
from copilot.models import Role


class Command(BaseCommand):
    help = "Create the demo brands, their teams, customers, orders and tickets (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        seeded = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Every demo user's password is: {DEMO_PASSWORD}")
        for (brand, token), spec in zip(seeded, BRANDS, strict=True):
            state = "on" if spec.fetch_orders else "off"
            self.stdout.write(f"\n{brand.name} (fetch_orders {state})")
            for role in Role:
                self.stdout.write(f"  {role.label:<6} {brand.slug}-{role.value}")
            self.stdout.write(f"  intake token: {token}")
