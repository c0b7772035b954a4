"""A local PrestaShop webservice: `GET /api/<resource>[/<id>]?output_format=JSON`.

Shaped like PrestaShop's JSON output: lists as `{"orders": [...]}` (a bare `[]` when
nothing matches), one object as `{"order_state": {...}}`, numbers as strings, multilingual
fields as `[{"id": "1", "value": ...}, ...]`, `filter[field]=[a|b]`, `display=full` or
`[f1,f2]`, `sort=[id_DESC]`, `limit=N`; the webservice key is the HTTP Basic user (empty
password) and a wrong key gets 401.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.fakes.base import FakeServer, Recorded, Reply

API_KEY = "PSKEYFAKE0123456789ABCDEFGHIJKLM"


def names(*values: str) -> list[dict[str, str]]:
    return [{"id": str(i), "value": v} for i, v in enumerate(values, start=1)]


CUSTOMERS = [
    {"id": 1, "email": "ana@example.com", "firstname": "Ana", "lastname": "Silva"},
    {"id": 2, "email": "zoe@example.com", "firstname": "Zoë", "lastname": "Løvås"},
    {"id": 3, "email": "bob@example.com", "firstname": "Bob", "lastname": "Martin"},
    {"id": 4, "email": "hana@example.com", "firstname": "Hana", "lastname": "Sato"},
]

ORDER_STATES = {
    "3": {
        "id": 3,
        "paid": "1",
        "shipped": "0",
        "delivery": "0",
        "name": names("Préparation en cours", "Processing in progress"),
    },
    "4": {
        "id": 4,
        "paid": "1",
        "shipped": "1",
        "delivery": "1",
        "name": names("Expédié", "Shipped"),
    },
    "5": {
        "id": 5,
        "paid": "1",
        "shipped": "1",
        "delivery": "1",
        "name": names("Livré", "Delivered"),
    },
    "6": {
        "id": 6,
        "paid": "0",
        "shipped": "0",
        "delivery": "0",
        "name": names("Annulé", "Canceled"),
    },
    "7": {
        "id": 7,
        "paid": "1",
        "shipped": "0",
        "delivery": "0",
        "name": names("Remboursé", "Refunded"),
    },
    "14": {
        "id": 14,
        "paid": "1",
        "shipped": "1",
        "delivery": "1",
        "name": names("Remis au transporteur", "Handed to carrier"),
    },
}

CARRIERS = {
    "2": {
        "id": 2,
        "name": "Colissimo",
        "url": "https://www.laposte.fr/outils/suivre-vos-envois?code=@",
        "delay": names("48 h", "48 h"),
    },
    "3": {
        "id": 3,
        "name": "Colis Privé",
        "url": "https://www.colisprive.com/moncolis/pages/detailColis.aspx?numColis=@",
        "delay": names("3-5 jours", "3-5 days"),
    },
    "4": {
        "id": 4,
        "name": "Retrait en magasin",
        "url": "",
        "delay": names("Sur place", "In store"),
    },
}

CURRENCIES = {"1": {"id": 1, "iso_code": "EUR", "name": "Euro"}}


def _order(
    id_: int,
    customer: int,
    reference: str,
    state: int,
    date: str,
    total: str,
    rows: list[tuple[str, int]],
) -> dict[str, Any]:
    return {
        "id": id_,
        "id_address_delivery": str(10 + customer),
        "id_address_invoice": str(10 + customer),
        "id_cart": str(100 + id_),
        "id_currency": "1",
        "id_lang": "1",
        "id_customer": str(customer),
        "id_carrier": "2",
        "current_state": str(state),
        "module": "ps_wirepayment",
        "payment": "Transfert bancaire",
        "reference": reference,
        "date_add": date,
        "date_upd": date,
        "total_paid": total,
        "total_paid_real": total,
        "associations": {
            "order_rows": [
                {
                    "id": str(id_ * 10 + i),
                    "product_id": str(i + 1),
                    "product_name": name,
                    "product_quantity": str(qty),
                    "unit_price_tax_incl": "10.000000",
                }
                for i, (name, qty) in enumerate(rows)
            ]
        },
    }


def default_orders() -> list[dict[str, Any]]:
    return [
        _order(
            1,
            1,
            "XKBKNABJK",
            4,
            "2026-11-13 08:30:00",
            "61.800000",
            [("T-shirt imprimé colibri", 2)],
        ),
        _order(
            2,
            1,
            "OHSATSERP",
            3,
            "2026-11-14 08:30:00",
            "35.900000",
            [("Mug The best is yet to come", 1)],
        ),
        _order(
            3,
            3,
            "FFATNOMMJ",
            6,
            "2026-11-15 08:30:00",
            "19.120000",
            [("Carnet de notes renard", 1)],
        ),
        _order(
            4, 3, "UOYEVOLIP", 7, "2026-11-16 08:30:00", "29.000000", [("Coussin ours brun", 1)]
        ),
        _order(
            5,
            2,
            "KHWLILZLL",
            5,
            "2026-11-17 08:30:00",
            "120.000000",
            [("Pull à capuche écru", 1), ("Écharpe 🧣", 1)],
        ),
        _order(6, 1, "ZZNOTRACK", 4, "2026-11-18 08:30:00", "12.000000", [("Affiche encadrée", 1)]),
        _order(
            7,
            4,
            "HNSPLITUP",
            14,
            "2026-11-19 08:30:00",
            "80.000000",
            [("Lampe", 1), ("Ampoule", 2)],
        ),
    ]


def default_order_carriers() -> list[dict[str, Any]]:
    def row(id_: int, order: int, carrier: int, tracking: str) -> dict[str, Any]:
        return {
            "id": id_,
            "id_order": str(order),
            "id_carrier": str(carrier),
            "id_order_invoice": "0",
            "weight": "0.300000",
            "shipping_cost_tax_excl": "7.000000",
            "shipping_cost_tax_incl": "8.400000",
            "tracking_number": tracking,
            "date_add": "2026-11-19 08:30:00",
        }

    return [
        row(1, 1, 2, "6A18230004512"),
        row(2, 1, 3, "CP99887766"),
        row(3, 2, 2, ""),
        row(4, 3, 2, ""),
        row(5, 4, 2, "6A18230004999"),
        row(6, 5, 3, "CP00112233"),
        row(7, 6, 4, ""),
        row(8, 7, 2, "6A18230007777"),
    ]


class FakePrestaShop(FakeServer):
    def __init__(self, *, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.customers = list(CUSTOMERS)
        self.orders = default_orders()
        self.order_carriers = default_order_carriers()

    @property
    def shop_url(self) -> str:
        return self.url

    def unauthorized(self) -> Reply:
        return Reply(
            401,
            {"errors": [{"code": 17, "message": "Authentication key is empty"}]},
            {
                "WWW-Authenticate": 'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required."'
            },
        )

    def _authorized(self, request: Recorded) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, _password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.api_key

    def handle(self, request: Recorded) -> Reply:
        if not request.path.startswith("/api"):
            return Reply(404, {"errors": [{"code": 0, "message": "Not found"}]})
        if not self._authorized(request):
            return self.unauthorized()
        if request.query.get("output_format") != "JSON":
            return Reply(200, b'<?xml version="1.0"?><prestashop/>')
        parts = [p for p in request.path.split("/") if p][1:]
        if not parts:
            return Reply(200, {"api": {"customers": {}, "orders": {}, "order_states": {}}})
        resource, object_id = parts[0], (parts[1] if len(parts) > 1 else None)
        tables: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
            "order_states": ("order_state", ORDER_STATES),
            "carriers": ("carrier", CARRIERS),
            "currencies": ("currency", CURRENCIES),
        }
        if object_id is not None:
            singular, table = tables.get(resource, ("", {}))
            if object_id not in table:
                return Reply(
                    404, {"errors": [{"code": 87, "message": f"Id(s) not exists: {object_id}"}]}
                )
            return Reply(200, {singular: table[object_id]})
        rows = {
            "customers": self.customers,
            "orders": self.orders,
            "order_carriers": self.order_carriers,
        }.get(resource)
        if rows is None:
            return Reply(
                404,
                {
                    "errors": [
                        {"code": 22, "message": f'Resource of type "{resource}" does not exists'}
                    ]
                },
            )
        return self._list(resource, rows, request.query)

    def _list(self, resource: str, rows: list[dict[str, Any]], query: dict[str, str]) -> Reply:
        for key, value in query.items():
            if key.startswith("filter[") and key.endswith("]"):
                field = key[7:-1]
                allowed = {v.lower() for v in value.strip("[]").split("|")}
                rows = [r for r in rows if str(r.get(field, "")).lower() in allowed]
        if query.get("sort") == "[id_DESC]":
            rows = sorted(rows, key=lambda r: int(r["id"]), reverse=True)
        if "limit" in query:
            rows = rows[: int(query["limit"])]
        display = query.get("display", "")
        if display == "full":
            shown = rows
        else:
            fields = display.strip("[]").split(",") if display else ["id"]
            shown = [{f: r[f] for f in fields if f in r} for r in rows]
        if not shown:
            return Reply(200, [])
        return Reply(200, {resource: shown})
