"""`manage.py purge_traces --older-than DAYS [--dry-run]`: the retention purge."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.services import traces_purge


class Command(BaseCommand):
    help = "Delete traces (and their spans, reviews, approvals) older than the retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, older_than: int, dry_run: bool, **options: Any) -> None:
        result = traces_purge(older_than_days=older_than, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {result.traces} traces and {result.spans} spans created before "
            f"{result.cutoff.isoformat(timespec='seconds')}."
        )
