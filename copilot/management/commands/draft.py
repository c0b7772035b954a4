from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.selectors import trace_as_dict
from copilot.models import Ticket
from copilot.services import draft_generate, draft_request


class Command(BaseCommand):
    help = "Run one draft for a ticket synchronously and print its trace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ticket_id", type=int)
        parser.add_argument("--json", action="store_true", help="Print the trace as JSON.")
        parser.add_argument(
            "--provider", choices=["rules", "openai"], help="Override the provider."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ticket = Ticket.objects.filter(pk=options["ticket_id"]).first()
        if ticket is None:
            raise CommandError(f"No ticket with id {options['ticket_id']}.")
        # Run here, not through the queue, so the command's output is the run's result.
        pending = draft_request(ticket=ticket, enqueue=False)
        draft = draft_generate(draft_id=pending.pk, provider_name=options["provider"])
        if draft is None:
            raise CommandError(f"Draft {pending.pk} was finished by another run meanwhile.")
        data = trace_as_dict(draft.trace)
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"Draft {draft.pk}: {draft.status}")
        self.stdout.write(draft.body or draft.status_reason)
        for span in data["spans"]:
            self.stdout.write(
                f"  {span['seq']:>2} {span['kind']:<9} {span['name']:<24} {span['status']:<7} {span['duration_ms']} ms"
            )
