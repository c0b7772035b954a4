"""Replay 1,000 past tickets with the rules provider and print how long it takes.

Builds a throw-away SQLite database with one brand, 1,000 customers with demo orders and
1,000 tickets drafted live (rules provider, demo order store, fetch_orders on) and decided
by an agent (accepted, edited, rejected or left). Then replays them chunk by chunk, as the
command and the embedded page do, printing progress: once under one configuration, once
comparing two (2,000 engine runs). Ends with one JSON line of the figures.

    .venv/bin/python bench/replay.py [--tickets 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("SECRET_KEY", "bench-only-key")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(count: int):
    """One brand and `count` past tickets drafted by the live copilot and decided."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from copilot.models import Brand, Customer, Draft, Message, Ticket
    from copilot.services import (
        draft_accept,
        draft_edit,
        draft_generate,
        draft_reject,
        draft_request,
    )
    from orders.models import DemoOrder, DemoShipment
    from rollout.flags import FETCH_ORDERS
    from rollout.models import BrandFlag

    brand = Brand.objects.create(name="Bench", slug="bench", signature="The Bench team")
    flag, _ = BrandFlag.objects.get_or_create(name=FETCH_ORDERS, defaults={"everyone": None})
    flag.brands.add(brand)
    flag.flush()
    agent = get_user_model().objects.create(username="bench-agent")
    questions = (
        ("Where is my order?", "Hi, where is my order {number}? It has been a week."),
        ("Order status", "Could you tell me when order {number} will arrive?"),
        ("Parcel", "Where is my parcel? I ordered last week."),  # identified customer, no number
        ("Opening hours", "What are your opening hours?"),
        ("Status", "Hi, where is my order? Regards"),  # unidentified, no number: gate fires
    )

    def seed_ticket(i: int) -> None:
        kind = i % len(questions)
        subject, body = questions[kind]
        number = f"BN-{10000 + i}"
        customer = Customer.objects.create(
            brand=brand,
            external_id=f"c{i}",
            email=f"c{i}@example.com",
            email_verified=kind != 4,
        )
        order = DemoOrder.objects.create(
            brand=brand,
            customer=customer,
            number=number,
            status=("in_transit", "delivered", "out_for_delivery")[i % 3],
            items=[{"title": "Mug", "quantity": 1}],
            total="19.00",
            currency="EUR",
            created_at=timezone.now(),
        )
        DemoShipment.objects.create(
            order=order, carrier="DHL", tracking_number=f"JD{500000 + i}", status="in_transit"
        )
        ticket = Ticket.objects.create(
            brand=brand, customer=customer, external_id=f"t{i}", subject=subject
        )
        Message.objects.create(ticket=ticket, body=body.format(number=number))
        draft = draft_request(ticket=ticket, enqueue=False)
        draft_generate(draft_id=draft.pk, provider_name="rules")
        draft = Draft.objects.get(pk=draft.pk)
        if draft.status != Draft.Status.READY:
            return
        decision = i % 10
        if decision < 6:
            draft_accept(draft=draft, user=agent, expected_version=draft.version)
        elif decision < 8:
            draft_edit(
                draft=draft,
                user=agent,
                expected_version=draft.version,
                text=draft.body + "\nHave a lovely day!",
            )
        elif decision < 9:
            draft_reject(draft=draft, user=agent, expected_version=draft.version)

    for start in range(0, count, 100):
        with transaction.atomic():  # one commit per ticket would make seeding the slow part
            for i in range(start, min(start + 100, count)):
                seed_ticket(i)
    return brand


def replay(brand, configs, label: str) -> tuple[float, dict]:
    from django.utils import timezone

    from replay.models import ReplayRun
    from replay.selectors import ReplayFilters, replay_report, report_as_dict
    from replay.services import replay_advance, replay_start

    started = time.monotonic()
    run = replay_start(
        brand=brand,
        config_a=configs[0],
        config_b=configs[1] if len(configs) > 1 else None,
        filters=ReplayFilters(since=timezone.now().date()),
        dispatch=False,
    )
    while run.status != ReplayRun.Status.DONE:
        run = replay_advance(run_id=run.pk)
        if run.done % 100 < run.chunk_size or run.done == run.total:
            print(
                f"  [{label}] {run.done:>5}/{run.total} ({run.percent:>3}%) "
                f"{time.monotonic() - started:6.1f} s",
                flush=True,
            )
    return time.monotonic() - started, report_as_dict(replay_report(run))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        from replay.services import replay_config_save

        t0 = time.monotonic()
        brand = seed(args.tickets)
        seed_seconds = time.monotonic() - t0
        print(
            f"seeded {args.tickets} past tickets (live drafts + decisions) in {seed_seconds:.1f} s"
        )
        with_tools = replay_config_save(
            brand=brand, name="with-tools", values={"provider": "rules", "tools": ["fetch_orders"]}
        )
        no_tools = replay_config_save(
            brand=brand, name="no-tools", values={"provider": "rules", "tools": []}
        )
        one_seconds, one = replay(brand, [with_tools], "one config")
        two_seconds, two = replay(brand, [with_tools, no_tools], "A vs B")
    figures = {
        "tickets": args.tickets,
        "seed_seconds": round(seed_seconds, 2),
        "replay_one_config_seconds": round(one_seconds, 2),
        "replay_one_config_tickets_per_second": round(args.tickets / one_seconds, 1),
        "replay_two_configs_seconds": round(two_seconds, 2),
        "under_two_minutes": one_seconds < 120 and two_seconds < 120,
        "one_config_tool_call_rate": one["sides"][0]["tool_call_rate"],
        "one_config_similarity_mean": round(one["sides"][0]["similarity_mean"], 4),
        "two_configs_only_a_called": two["only_a_called"],
    }
    print(f"replayed {args.tickets} tickets with one configuration in {one_seconds:.1f} s")
    print(f"replayed {args.tickets} tickets with two configurations in {two_seconds:.1f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
