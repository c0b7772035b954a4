"""Order connectors: normalization cost and lookup latency against the local fakes.

    .venv/bin/python bench/orders.py [--orders 1000] [--lookups 200]

Prints the time to normalize N Shopify order nodes (vendor-shaped, from the test fake) and
the latency of real lookups over HTTP on 127.0.0.1 (a fresh connector per lookup, so no
per-run memo helps), then one JSON line with every figure.
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

import django  # noqa: E402

django.setup()

from orders.connectors.prestashop import PrestaShopConnector  # noqa: E402
from orders.connectors.shopify import ShopifyConnector, normalize_order  # noqa: E402
from tests.fakes.prestashop import API_KEY, FakePrestaShop  # noqa: E402
from tests.fakes.shopify import TOKEN, FakeShopify, default_orders  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()

    figures: dict[str, float] = {}
    figures.update(bench_normalize(args.orders))
    print(
        f"normalize {args.orders} Shopify orders: {figures['normalize_total_ms']} ms "
        f"({figures['normalize_per_order_us']} µs per order)"
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
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
