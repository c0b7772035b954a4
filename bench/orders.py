"""Order connectors: normalization cost and lookup latency against the local fakes.

    .venv/bin/python bench/orders.py [--orders 1000] [--lookups 200] [--merges 10]

Prints the time to normalize N Shopify order nodes (vendor-shaped, from the test fake), the
time the data-quality check (`orders.quality`) adds per merged order (goal: at most 1 ms,
beside the cost of `Order.to_dict` measured in the same run as the floor), the
latency of real lookups over HTTP on 127.0.0.1 (a fresh connector per lookup, so no
per-run memo helps), and the merged lookup: `fetch_orders` reading a customer's Shopify
orders and asking AfterShip (its local fake, answering after 200 ms) about their three
parcels, against the same call asking about one parcel. The goal is a ratio of at most 1.3:
the parcels are asked concurrently. Then one JSON line with every figure.

The merged lookup needs a brand and a customer: they live in an in-memory SQLite database
(`DATABASE_URL` unless set), migrated by the script.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

import django  # noqa: E402

django.setup()

from orders.connectors.prestashop import PrestaShopConnector  # noqa: E402
from orders.connectors.shopify import ShopifyConnector, normalize_order  # noqa: E402
from tests.fakes.aftership import API_KEY as AFTERSHIP_KEY  # noqa: E402
from tests.fakes.aftership import FakeAfterShip  # noqa: E402
from tests.fakes.prestashop import API_KEY, FakePrestaShop  # noqa: E402
from tests.fakes.shopify import TOKEN, FakeShopify, default_orders  # noqa: E402

CARRIER_LATENCY = 0.2
CARRIER_GOAL_RATIO = 1.3
QUALITY_GOAL_MS = 1.0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def bench_normalize(count: int) -> dict[str, float]:
    templates = default_orders()
    nodes = []
    for i in range(count):
        node = copy.deepcopy(templates[i % len(templates)])
        node["name"] = f"#{100000 + i}"
        nodes.append(node)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for node in nodes:
            normalize_order(node)
        runs.append(time.perf_counter() - started)
    best = min(runs)
    return {
        "normalize_orders": count,
        "normalize_total_ms": round(best * 1000, 2),
        "normalize_per_order_us": round(best / count * 1e6, 2),
    }


def bench_quality(count: int) -> dict[str, float | bool]:
    """What the data-quality check adds per order: `orders.quality.check` on N merged orders
    (the fake shop's orders, each parcel with a carrier report of ten scans, so every check
    has data to read), best of five; beside it `Order.to_dict` on the same orders, which
    every order returned pays anyway (the floor)."""
    import datetime as dt
    from dataclasses import replace

    from orders.quality import CheckContext, check
    from orders.schema import ALL_FIELDS, CarrierTracking, OrderStatus, TrackingEvent

    now = dt.datetime.now(dt.UTC)
    scans = tuple(
        TrackingEvent(time=now - dt.timedelta(days=day), description="In transit")
        for day in range(10)
    )
    templates = [normalize_order(node) for node in default_orders()]
    orders = []
    for i in range(count):
        order = templates[i % len(templates)]
        report = CarrierTracking(
            source="AfterShip",
            checked_at=now,
            status=OrderStatus.DELIVERY_EXCEPTION if i % 2 else OrderStatus.IN_TRANSIT,
            status_detail="Exception" if i % 2 else "InTransit",
            events=scans,
            expected_delivery=(now - dt.timedelta(days=2)).date(),
        )
        shipments = tuple(replace(s, tracking=report) for s in order.shipments)
        orders.append(replace(order, number=str(100000 + i), shipments=shipments))
    ctx = CheckContext(
        now=now, shop="Shopify", allowed=frozenset(ALL_FIELDS), read_at=now - dt.timedelta(hours=1)
    )

    def best_of_five(work) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for order in orders:
                work(order)
            runs.append(time.perf_counter() - started)
        return min(runs)

    checked = best_of_five(lambda order: check(order, ctx))
    floor = best_of_five(lambda order: order.to_dict(ALL_FIELDS))
    per_order_ms = checked / count * 1000
    return {
        "quality_orders": count,
        "quality_findings": sum(len(check(order, ctx)) for order in orders),
        "quality_per_order_us": round(per_order_ms * 1000, 2),
        "quality_to_dict_per_order_us": round(floor / count * 1e6, 2),
        "quality_ratio_to_to_dict": round(checked / floor, 2),
        "quality_goal_ms": QUALITY_GOAL_MS,
        "quality_goal_met": per_order_ms <= QUALITY_GOAL_MS,
    }


def bench_lookups(name: str, lookup, count: int) -> dict[str, float]:
    lookup()  # warm the connection pool
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        lookup()
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        f"{name}_p50_ms": round(statistics.median(latencies), 2),
        f"{name}_p95_ms": round(percentile(latencies, 95), 2),
        f"{name}_max_ms": round(max(latencies), 2),
    }


def bench_carrier_merge(merges: int) -> dict[str, float | bool]:
    """The merged lookup through `fetch_orders`, three parcels against one, AfterShip's fake
    answering every request after `CARRIER_LATENCY` seconds; medians of `merges` calls, each
    with a fresh per-run memo (nothing remembered between calls)."""
    import time

    from django.core.management import call_command

    from copilot.tools import ToolContext
    from orders.models import CarrierSource, OrderSource
    from orders.tools import fetch_orders
    from tests.factories import BrandFactory, CustomerFactory, TicketFactory

    call_command("migrate", verbosity=0, interactive=False)
    shopify, aftership = FakeShopify().start(), FakeAfterShip(latency=CARRIER_LATENCY).start()
    try:
        brand = BrandFactory()
        OrderSource.objects.create(
            brand=brand,
            kind=OrderSource.Kind.SHOPIFY,
            shop_url=shopify.url,
            credentials={"access_token": TOKEN},
        )
        CarrierSource.objects.create(
            brand=brand,
            kind=CarrierSource.Kind.AFTERSHIP,
            api_url=aftership.url,
            credentials={"api_key": AFTERSHIP_KEY},
        )
        customer = CustomerFactory(brand=brand, email="ana@example.com")
        ticket = TicketFactory(brand=brand, customer=customer)

        def merged(arguments: dict[str, str]) -> float:
            ctx = ToolContext(
                brand=brand,
                ticket=ticket,
                customer=customer,
                ticket_order_numbers=(),
                deadline=time.monotonic() + 10,
            )
            started = time.perf_counter()
            data = fetch_orders(ctx, arguments).data
            elapsed = time.perf_counter() - started
            reports = [s for o in data["orders"] for s in o["shipments"] if "carrier_tracking" in s]
            assert len(reports) == (1 if arguments else 3), reports
            return elapsed * 1000

        one_parcel = {"tracking_number": "JD014600006281230701"}
        merged(one_parcel)  # warm the connection pool
        one = statistics.median(merged(one_parcel) for _ in range(merges))
        three = statistics.median(merged({}) for _ in range(merges))
    finally:
        shopify.stop()
        aftership.stop()
    ratio = three / one
    return {
        "carrier_latency_ms": CARRIER_LATENCY * 1000,
        "carrier_one_parcel_ms": round(one, 1),
        "carrier_three_parcels_ms": round(three, 1),
        "carrier_ratio": round(ratio, 3),
        "carrier_goal_ratio": CARRIER_GOAL_RATIO,
        "carrier_goal_met": ratio <= CARRIER_GOAL_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--merges", type=int, default=10)
    args = parser.parse_args()

    figures: dict[str, float] = {}
    figures.update(bench_normalize(args.orders))
    print(
        f"normalize {args.orders} Shopify orders: {figures['normalize_total_ms']} ms "
        f"({figures['normalize_per_order_us']} µs per order)"
    )
    quality = bench_quality(args.orders)
    figures.update(quality)
    print(
        f"data-quality check on {args.orders} merged orders ({quality['quality_findings']} "
        f"findings): {quality['quality_per_order_us']} µs per order, "
        f"{quality['quality_ratio_to_to_dict']}x the {quality['quality_to_dict_per_order_us']} µs "
        f"of Order.to_dict; goal <= {QUALITY_GOAL_MS:g} ms per order: "
        f"{'met' if quality['quality_goal_met'] else 'NOT met'}"
    )

    shopify, prestashop = FakeShopify().start(), FakePrestaShop().start()
    try:

        def shopify_connector() -> ShopifyConnector:
            return ShopifyConnector(
                shop_url=shopify.url, access_token=TOKEN, call_timeout=5, source_key="bench"
            )

        def prestashop_connector() -> PrestaShopConnector:
            return PrestaShopConnector(
                shop_url=prestashop.url, api_key=API_KEY, call_timeout=5, source_key="bench"
            )

        cases = {
            "shopify_customer_orders": lambda: shopify_connector().orders_for_customer(
                email="ana@example.com", limit=3, timeout=5
            ),
            "shopify_order_by_number": lambda: shopify_connector().order_by_number(
                number="1006", timeout=5
            ),
            "prestashop_customer_orders": lambda: prestashop_connector().orders_for_customer(
                email="ana@example.com", limit=3, timeout=5
            ),
            "prestashop_order_by_number": lambda: prestashop_connector().order_by_number(
                number="XKBKNABJK", timeout=5
            ),
        }
        for name, lookup in cases.items():
            result = bench_lookups(name, lookup, args.lookups)
            figures.update(result)
            print(
                f"{name.replace('_', ' ')} on the local fake ({args.lookups} lookups): "
                f"p50 {result[name + '_p50_ms']} ms, p95 {result[name + '_p95_ms']} ms, "
                f"max {result[name + '_max_ms']} ms"
            )
    finally:
        shopify.stop()
        prestashop.stop()
    figures["lookups"] = args.lookups

    merge = bench_carrier_merge(args.merges)
    figures.update(merge)
    print(
        f"merged lookup (fetch_orders + AfterShip at {CARRIER_LATENCY * 1000:.0f} ms, median of "
        f"{args.merges}): one parcel {merge['carrier_one_parcel_ms']} ms, three parcels "
        f"{merge['carrier_three_parcels_ms']} ms; ratio {merge['carrier_ratio']:.2f}x "
        f"(goal <= {CARRIER_GOAL_RATIO}x): {'met' if merge['carrier_goal_met'] else 'NOT met'}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
