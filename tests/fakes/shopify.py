"""A local Shopify Admin GraphQL API: `POST /admin/api/<version>/graphql.json`.

Answers are shaped like Shopify's documented responses: `data.orders.nodes` with
`pageInfo`, fulfillments with `trackingInfo` and `events.nodes`, money as
`shopMoney { amount currencyCode }`, `extensions.cost.throttleStatus` on every answer, a
THROTTLED error (HTTP 200, `errors[].extensions.code`) when the cost bucket is empty, and
`401 {"errors": "[API] Invalid API key or access token ..."}` for a wrong token. The search
is token-like, not exact (`email:ana@...` also finds `hana@...`, `name:1001` also `#10011`),
as Shopify's is, so clients must check what comes back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from orders.connectors.shopify import API_VERSION
from tests.fakes.base import FakeServer, Recorded, Reply

TOKEN = "shpat_fake_0123456789abcdef"
QUERY_COST = 52


def money(amount: str, currency: str = "EUR") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def fulfillment(
    display: str,
    *,
    company: str | None = None,
    number: str | None = None,
    url: str | None = None,
    estimated: str | None = None,
    events: list[dict[str, Any]] | None = None,
    status: str = "SUCCESS",
) -> dict[str, Any]:
    tracking = (
        []
        if number is None and company is None
        else [{"company": company, "number": number, "url": url}]
    )
    return {
        "status": status,
        "displayStatus": display,
        "estimatedDeliveryAt": estimated,
        "trackingInfo": tracking,
        "events": {"nodes": events or []},
    }


def order(
    name: str,
    email: str,
    *,
    created: str,
    financial: str = "PAID",
    fulfillment_status: str = "UNFULFILLED",
    total: str = "59.90",
    refunded: str = "0.0",
    cancelled_at: str | None = None,
    items: list[tuple[str, int]] | None = None,
    fulfillments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "email": email,
        "phone": "+33 6 12 34 56 78",
        "createdAt": created,
        "cancelledAt": cancelled_at,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": fulfillment_status,
        "totalPriceSet": money(total),
        "totalRefundedSet": money(refunded),
        "shippingAddress": {
            "address1": "12 Rue Secrète",
            "address2": None,
            "city": "Lyon",
            "zip": "69001",
            "countryCodeV2": "FR",
        },
        "lineItems": {"nodes": [{"title": t, "quantity": q} for t, q in items or [("Mug", 1)]]},
        "fulfillments": fulfillments or [],
    }


def default_orders() -> list[dict[str, Any]]:
    """The shop's orders, newest first, one per case the connector must normalize."""
    return [
        order(
            "#1001",
            "ana@example.com",
            created="2026-11-19T08:30:00Z",
            fulfillment_status="FULFILLED",
            total="89.50",
            items=[("Linen shirt", 1), ("Wool socks", 2)],
            fulfillments=[
                fulfillment(
                    "DELIVERED",
                    company="DHL Express",
                    number="JD014600006281230701",
                    url="https://www.dhl.com/track?id=JD014600006281230701",
                    events=[
                        {
                            "happenedAt": "2026-11-21T14:05:00Z",
                            "status": "DELIVERED",
                            "message": None,
                            "city": "Lyon",
                            "country": "France",
                        }
                    ],
                ),
                fulfillment(
                    "IN_TRANSIT",
                    company="UPS",
                    number="1Z999AA10123456784",
                    url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
                    estimated="2026-11-28T18:00:00Z",
                    events=[
                        {
                            "happenedAt": "2026-11-22T06:10:00Z",
                            "status": "IN_TRANSIT",
                            "message": "Departed facility",
                            "city": "Köln",
                            "country": "Germany",
                        }
                    ],
                ),
            ],
        ),
        order(
            "#1002",
            "ana@example.com",
            created="2026-11-18T08:30:00Z",
            fulfillment_status="PARTIALLY_FULFILLED",
            items=[("Desk lamp", 1), ("Bulb", 3)],
            fulfillments=[
                fulfillment(
                    "IN_TRANSIT",
                    company="La Poste",
                    number="6A12345678901",
                    url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
                ),
                fulfillment("CANCELED", company="UPS", number="1ZCANCELLED", status="CANCELLED"),
            ],
        ),
        order(
            "#1003",
            "ana@example.com",
            created="2026-11-10T08:30:00Z",
            financial="REFUNDED",
            total="25.00",
            refunded="25.00",
            cancelled_at="2026-11-11T09:00:00Z",
        ),
        order(
            "#1004",
            "bob@example.com",
            created="2026-11-09T08:30:00Z",
            financial="REFUNDED",
            fulfillment_status="FULFILLED",
            total="40.00",
            refunded="40.00",
            fulfillments=[fulfillment("DELIVERED", company="DPD", number="0150123456")],
        ),
        order(
            "#1005",
            "bob@example.com",
            created="2026-11-08T08:30:00Z",
            fulfillment_status="FULFILLED",
            fulfillments=[fulfillment("FULFILLED")],
        ),
        order(
            "#1006",
            "zoe@example.com",
            created="2026-11-07T08:30:00Z",
            financial="PARTIALLY_REFUNDED",
            fulfillment_status="FULFILLED",
            total="120.00",
            refunded="30.00",
            items=[("Pull à capuche écru", 1), ("Écharpe 🧣", 1)],
            fulfillments=[
                fulfillment(
                    "OUT_FOR_DELIVERY",
                    company="Colis Privé",
                    number="CP00112233",
                    events=[
                        {
                            "happenedAt": "2026-11-23T07:45:00Z",
                            "status": "OUT_FOR_DELIVERY",
                            "message": "En cours de livraison",
                            "city": "Zürich",
                            "country": "Suisse",
                        }
                    ],
                )
            ],
        ),
        order("#10011", "hana@example.com", created="2026-11-06T08:30:00Z"),
    ]


class FakeShopify(FakeServer):
    """The fake shop. `orders` may be replaced or extended by a test."""

    def __init__(self, *, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.orders = default_orders()
        self.maximum = 1000.0
        self.available = 1000.0
        self.restore_rate = 50.0
        # Order name -> a field of it that fails: answered null with a GraphQL field error
        # (`errors[].path` into the node), the rest of the answer intact, as Shopify does.
        self.field_errors: dict[str, str] = {}

    @property
    def shop_url(self) -> str:
        return self.url

    def graphql_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/graphql.json")]

    def _cost(self, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": QUERY_COST,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": self.available,
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def unauthorized(self) -> Reply:
        return Reply(
            401,
            {
                "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
            },
        )

    def throttled(self) -> Reply:
        self.available = 10.0
        return Reply(
            200,
            {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": self._cost(None),
            },
        )

    def handle(self, request: Recorded) -> Reply:
        if request.path != f"/admin/api/{API_VERSION}/graphql.json" or request.method != "POST":
            return Reply(404, {"errors": "Not Found"})
        if request.headers.get("x-shopify-access-token") != self.token:
            return self.unauthorized()
        body = json.loads(request.body)
        query, variables = body["query"], body.get("variables") or {}
        self.available = self.maximum
        if "shop {" in query:
            return Reply(
                200, {"data": {"shop": {"name": "Fake shop"}}, "extensions": self._cost(1)}
            )
        if "orders(" not in query:
            return Reply(200, {"errors": [{"message": "Field doesn't exist"}]})
        matched = self._search(str(variables.get("query") or ""))
        start = int(variables.get("after") or 0)
        first = int(variables["first"])
        # GraphQL answers only what was selected.
        unselected = [f for f in ("phone", "shippingAddress") if f not in query]
        page = [
            {k: v for k, v in node.items() if k not in unselected}
            for node in matched[start : start + first]
        ]
        has_next = start + first < len(matched)
        errors = []
        for index, node in enumerate(page):
            failing = self.field_errors.get(node["name"])
            if failing:
                node[failing] = None
                errors.append(
                    {
                        "message": "Internal error. Looks like something went wrong on our end.",
                        "locations": [{"line": 1, "column": 1}],
                        "path": ["orders", "nodes", index, failing],
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                )
        body: dict[str, Any] = {
            "data": {
                "orders": {
                    "nodes": page,
                    "pageInfo": {
                        "hasNextPage": has_next,
                        "endCursor": str(start + first) if has_next else None,
                    },
                }
            },
            "extensions": self._cost(12),
        }
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    def _search(self, query: str) -> list[dict[str, Any]]:
        match = re.fullmatch(r'(email|name):"?([^"]*)"?', query.strip())
        if not match:
            return list(self.orders)
        field, term = match.group(1), match.group(2).lower()
        if field == "email":
            return [o for o in self.orders if term in o["email"].lower()]
        return [o for o in self.orders if o["name"].lstrip("#").lower().startswith(term)]
