"""`manage.py replay`: replay a brand's past tickets under one configuration, or two."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copilot.models import Brand
from replay.exceptions import ReplayError
from replay.models import ReplayRun
from replay.selectors import ReplayFilters, config_named, replay_document
from replay.services import replay_advance, replay_start


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = (
        "Replay a brand's past tickets on their recorded order data under a configuration "
        "(latest version of NAME, or NAME@VERSION), optionally compared with another, and "
        "print the report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", required=True, help="Brand slug.")
        parser.add_argument("--since", required=True, type=_date, help="First day (YYYY-MM-DD).")
        parser.add_argument("--until", type=_date, help="Last day, included.")
        parser.add_argument(
            "--config", required=True, help="Configuration NAME (latest) or NAME@VERSION (A)."
        )
        parser.add_argument("--compare", help="Configuration to compare with (B), same form.")
        parser.add_argument("--tool", default="", help="Only runs that called this tool.")
        parser.add_argument("--outcome", default="", help="Only runs with this outcome.")
        parser.add_argument(
            "--decision", default="", help='Only drafts the agent decided so ("sent", ...).'
        )
        parser.add_argument("--limit", type=int, help="At most this many tickets.")
        parser.add_argument("--json", action="store_true", help="Print the whole run as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand"]).first()
        if brand is None:
            raise CommandError(f"No brand {options['brand']!r}.")
        configs = []
        for name in filter(None, (options["config"], options["compare"])):
            config = config_named(brand, name)
            if config is None:
                raise CommandError(f"No configuration {name!r} for {brand.slug}.")
            configs.append(config)
        filters = ReplayFilters(
            since=options["since"],
            until=options["until"],
            tool=options["tool"],
            outcome=options["outcome"],
            decision=options["decision"],
            limit=options["limit"],
        )
        try:
            # Run here, chunk by chunk, not through the queue: the output is the run's result.
            run = replay_start(
                brand=brand,
                config_a=configs[0],
                config_b=configs[1] if len(configs) > 1 else None,
                filters=filters,
                dispatch=False,
            )
        except ReplayError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        started = time.monotonic()
        while run.status != ReplayRun.Status.DONE:
            run = replay_advance(run_id=run.pk)
            self.stderr.write(
                f"replayed {run.done}/{run.total} ({run.percent}%) "
                f"in {time.monotonic() - started:.1f} s"
            )
        document = replay_document(run)
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        self._print_report(document, time.monotonic() - started)

    def _print_report(self, document: dict[str, Any], seconds: float) -> None:
        run, sides = document["run"], document["report"]["sides"]
        self.stdout.write(f"Replay {run['id']} of {run['done']} tickets in {seconds:.1f} s")
        rows = [
            ("configuration", lambda s: s["config"]),
            ("outcomes", lambda s: _counts(s["outcomes"])),
            (
                "tickets with a tool call",
                lambda s: f"{s['called_tools']} ({s['tool_call_rate']:.0%})",
            ),
            (
                "tool decision vs original",
                lambda s: (
                    f"same {s['decision_same']} added {s['decision_added']} dropped {s['decision_dropped']}"
                ),
            ),
            ("grounding", lambda s: _counts(s["grounding"])),
            (
                "similarity to sent text",
                lambda s: (
                    "-"
                    if s["similarity_mean"] is None
                    else f"{s['similarity_mean']:.3f} over {s['similarity_count']}"
                ),
            ),
            ("safeguards fired", lambda s: _counts(s["safeguards"]) or "none"),
            ("calls not recorded", lambda s: str(s["not_recorded"])),
            ("tokens in / out", lambda s: f"{s['tokens_in']} / {s['tokens_out']}"),
            ("cost", lambda s: s["cost"]),
            ("latency p50 / p95 ms", lambda s: f"{s['latency_p50_ms']} / {s['latency_p95_ms']}"),
        ]
        for label, value in rows:
            self.stdout.write(f"  {label:<27}" + "".join(f"{value(s):<40}" for s in sides))
        report = document["report"]
        if report["both_called"] is not None:
            self.stdout.write(
                f"  tool calls A vs B: both {report['both_called']}, only A "
                f"{report['only_a_called']}, only B {report['only_b_called']}, neither "
                f"{report['neither_called']}; same text {report['same_text']}"
            )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items())
