"""Measure the decision "call the order tool or not" on a labelled file of utterances.

Each utterance runs through the real engine as a ticket of an identified customer of a
throwaway brand with `fetch_orders` available; whether the provider's first turn asks for
`fetch_orders` is compared with the label (`call` / `no_call` / `either`). Everything the
command writes is rolled back at the end.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import Span
from copilot.agent import engine
from copilot.agent.providers import provider_for
from copilot.models import Brand, Customer, Message, Ticket
from rollout.plan import Plan

LABELS = ("call", "no_call", "either")
PLAN = Plan(
    available_tools=("fetch_orders",),
    stage="on",
    arm="treatment",
    bucket=None,
    reasons=("eval_decisions: fetch_orders available",),
)


@dataclass(frozen=True)
class Figures:
    n: int
    n_call: int
    n_no_call: int
    n_either: int
    call_recall: float
    unnecessary_call_rate: float
    either_call_rate: float
    provider: str
    seconds: float


def read_rows(path: Path) -> list[tuple[str, str]]:
    """(utterance, order_lookup) pairs from a CSV or JSONL file; raises CommandError."""
    if not path.exists():
        raise CommandError(f"No such file: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in {".jsonl", ".ndjson"} or text.lstrip().startswith("{"):
        try:
            records: list[dict[str, Any]] = [
                json.loads(line) for line in text.splitlines() if line.strip()
            ]
        except ValueError as error:
            raise CommandError(f"{path} is not valid JSONL: {error}.") from error
    else:
        records = list(csv.DictReader(text.splitlines()))
    rows = []
    for number, record in enumerate(records, start=1):
        utterance, label = record.get("utterance"), record.get("order_lookup")
        if not utterance or label not in LABELS:
            raise CommandError(
                f"Row {number}: needs 'utterance' and 'order_lookup' in {', '.join(LABELS)}."
            )
        rows.append((utterance, label))
    return rows


def asked_for_orders(result: engine.RunResult) -> bool:
    """Whether the provider's first turn asked for `fetch_orders`."""
    first = next((s for s in result.trace.spans if s.kind == Span.Kind.LLM), None)
    calls = (first.result or {}).get("tool_calls", []) if first else []
    return any(call["name"] == "fetch_orders" for call in calls)


def evaluate(rows: list[tuple[str, str]], *, provider_name: str) -> Figures:
    """Run every row through the engine and return the decision figures; writes nothing."""
    started = time.monotonic()
    called = {label: 0 for label in LABELS}
    totals = {label: 0 for label in LABELS}
    # A throwaway brand, deleted with everything under it at the end. Not one transaction
    # around the run: a model run takes seconds, and SQLite would stay write-locked meanwhile.
    brand = Brand.objects.create(name="Eval brand", slug=f"eval-{time.time_ns()}")
    try:
        customer = Customer.objects.create(
            brand=brand, external_id="eval", email="eval@example.com", email_verified=True
        )
        provider = provider_for(brand, provider_name)
        for index, (utterance, label) in enumerate(rows):
            ticket = Ticket.objects.create(brand=brand, customer=customer, external_id=str(index))
            Message.objects.create(ticket=ticket, body=utterance)
            result = engine.run(ticket=ticket, plan=PLAN, provider=provider)
            totals[label] += 1
            called[label] += asked_for_orders(result)
    finally:
        Ticket.objects.filter(brand=brand).delete()  # tickets protect their customer
        brand.delete()

    def rate(label: str) -> float:
        return round(called[label] / totals[label], 4) if totals[label] else 0.0

    return Figures(
        n=len(rows),
        n_call=totals["call"],
        n_no_call=totals["no_call"],
        n_either=totals["either"],
        call_recall=rate("call"),
        unnecessary_call_rate=rate("no_call"),
        either_call_rate=rate("either"),
        provider=provider_name,
        seconds=round(time.monotonic() - started, 1),
    )


class Command(BaseCommand):
    help = "Measure when the copilot calls fetch_orders on a labelled CSV or JSONL file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--provider", choices=["rules", "openai"], default="rules")
        parser.add_argument("--json", action="store_true", help="End with one JSON line.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = read_rows(options["path"])
        figures = evaluate(rows, provider_name=options["provider"])
        self.stdout.write(f"provider: {figures.provider}")
        self.stdout.write(
            f"n: {figures.n} (call {figures.n_call}, no_call {figures.n_no_call}, "
            f"either {figures.n_either})"
        )
        self.stdout.write(f"call recall: {figures.call_recall:.4f}")
        self.stdout.write(f"unnecessary-call rate: {figures.unnecessary_call_rate:.4f}")
        self.stdout.write(f"call rate on either: {figures.either_call_rate:.4f}")
        if options["json"]:
            self.stdout.write(json.dumps(asdict(figures)))
