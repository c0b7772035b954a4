"""PrestaShop: the webservice API (`/api/...`), the key as the HTTP Basic user, JSON output.

A customer's orders: the customer ids for the email, then their orders newest first, then
the order carriers of all those orders in one call. Order states, carriers and currencies
are read once per connector (one connector serves one run). State names are multilingual:
the first language the shop lists (its install language) is used as the shop's own words.
Dates carry no zone in PrestaShop; they are read as UTC.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from orders.connectors.base import ConnectorBadResponse, ConnectorNotConfigured
from orders.connectors.http import HttpClient
from orders.schema import LineItem, Order, OrderStatus, Shipment

# The states every PrestaShop install creates (PS_OS_* configuration), by id. A shop's own
# states fall back to the state's flags (shipped / paid).
DEFAULT_STATES: dict[str, OrderStatus] = {
    "1": OrderStatus.PLACED,  # awaiting check payment
    "2": OrderStatus.PAID,  # payment accepted
    "3": OrderStatus.UNFULFILLED,  # processing in progress
    "4": OrderStatus.IN_TRANSIT,  # shipped
    "5": OrderStatus.DELIVERED,
    "6": OrderStatus.CANCELLED,
    "7": OrderStatus.REFUNDED,
    "8": OrderStatus.PLACED,  # payment error
    "9": OrderStatus.PAID,  # on backorder (paid)
    "10": OrderStatus.PLACED,  # awaiting bank wire payment
    "11": OrderStatus.PAID,  # remote payment accepted
    "12": OrderStatus.PLACED,  # on backorder (not paid)
    "13": OrderStatus.PLACED,  # awaiting cash on delivery validation
}
_SHIPPED = {
    OrderStatus.IN_TRANSIT,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
    OrderStatus.DELIVERY_EXCEPTION,
}
RECENT_ORDERS_CAP = 10


class PrestaShopConnector:
    label = "PrestaShop"

    def __init__(
        self,
        *,
        shop_url: str,
        api_key: str,
        call_timeout: float,
        source_key: str,
        breaker: bool = True,
    ) -> None:
        if not shop_url or not api_key:
            raise ConnectorNotConfigured("The PrestaShop shop URL or webservice key is missing.")
        self.http = HttpClient(
            vendor="prestashop",
            source_key=source_key,
            base_url=f"{shop_url.rstrip('/')}/api",
            call_timeout=call_timeout,
            headers={"Output-Format": "JSON"},
            auth=(api_key, ""),
            breaker=breaker,
        )
        # Order states, carriers and currencies rarely change: read once per connector.
        self._reference: dict[tuple[str, str], dict[str, Any]] = {}
        self._customers_by_email: dict[str, list[str]] = {}
        self._emails_by_customer: dict[str, str] = {}

    # --- the protocol --------------------------------------------------------------------
    def orders_for_customer(self, *, email: str, limit: int, timeout: float) -> list[Order]:
        deadline = time.monotonic() + timeout
        customer_ids = self._customer_ids(email.strip().lower(), deadline)
        if not customer_ids:
            return []
        rows = self._list(
            "orders",
            {
                "filter[id_customer]": "[" + "|".join(customer_ids) + "]",
                "display": "full",
                "sort": "[id_DESC]",
                "limit": str(min(limit, RECENT_ORDERS_CAP)),
            },
            deadline,
        )
        return self._normalize_all(rows, deadline)

    def order_by_number(self, *, number: str, timeout: float) -> Order | None:
        deadline = time.monotonic() + timeout
        wanted = _filter_value(number.strip().lstrip("#"))
        field = "id" if wanted.isdigit() else "reference"
        rows = self._list(
            "orders", {f"filter[{field}]": f"[{wanted}]", "display": "full"}, deadline
        )
        orders = self._normalize_all(rows[:1], deadline)
        return orders[0] if orders else None

    def check(self, *, timeout: float) -> None:
        payload = self.http.request_json(
            "GET", "/", params={"output_format": "JSON"}, deadline=time.monotonic() + timeout
        )
        if not isinstance(payload, dict | list):
            raise ConnectorBadResponse("PrestaShop answered with something unexpected.")

    # --- reads ---------------------------------------------------------------------------
    def _list(self, resource: str, params: dict[str, str], deadline: float) -> list[dict]:
        payload = self.http.request_json(
            "GET", f"/{resource}", params={**params, "output_format": "JSON"}, deadline=deadline
        )
        if payload == [] or payload == {}:
            return []  # PrestaShop answers an empty list as a bare `[]`
        rows = payload.get(resource) if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ConnectorBadResponse(f"PrestaShop answered without a list of {resource}.")
        return rows

    def _one(self, resource: str, singular: str, object_id: str, deadline: float) -> dict:
        payload = self.http.request_json(
            "GET",
            f"/{resource}/{_filter_value(object_id)}",
            params={"output_format": "JSON"},
            deadline=deadline,
        )
        row = payload.get(singular) if isinstance(payload, dict) else None
        if not isinstance(row, dict):
            raise ConnectorBadResponse(f"PrestaShop answered without the {singular}.")
        return row

    def _customer_ids(self, email: str, deadline: float) -> list[str]:
        if email not in self._customers_by_email:
            rows = self._list(
                "customers",
                {"filter[email]": f"[{_filter_value(email)}]", "display": "[id,email]"},
                deadline,
            )
            ids = [
                str(row["id"])
                for row in rows
                if str(row.get("email", "")).strip().lower() == email and "id" in row
            ]
            self._customers_by_email[email] = ids
            self._emails_by_customer.update(dict.fromkeys(ids, email))
        return self._customers_by_email[email]

    def _customer_email(self, customer_id: str, deadline: float) -> str:
        if customer_id not in self._emails_by_customer:
            rows = self._list(
                "customers",
                {"filter[id]": f"[{_filter_value(customer_id)}]", "display": "[id,email]"},
                deadline,
            )
            self._emails_by_customer[customer_id] = str(rows[0].get("email", "")) if rows else ""
        return self._emails_by_customer[customer_id]

    def _reference_row(
        self, resource: str, singular: str, row_id: str, deadline: float
    ) -> dict[str, Any]:
        """One row of a reference resource (order_states, carriers, currencies), memoised."""
        key = (resource, row_id)
        if key not in self._reference:
            self._reference[key] = self._one(resource, singular, row_id, deadline)
        return self._reference[key]

    # --- normalization -------------------------------------------------------------------
    def _normalize_all(self, rows: list[dict], deadline: float) -> list[Order]:
        if not rows:
            return []
        try:
            order_ids = [str(row["id"]) for row in rows]
        except KeyError as error:
            raise ConnectorBadResponse("PrestaShop answered with an order without id.") from error
        carriers_by_order: dict[str, list[dict]] = {}
        for row in self._list(
            "order_carriers",
            {"filter[id_order]": "[" + "|".join(order_ids) + "]", "display": "full"},
            deadline,
        ):
            carriers_by_order.setdefault(str(row.get("id_order")), []).append(row)
        return [
            self._normalize(row, carriers_by_order.get(str(row["id"]), []), deadline)
            for row in rows
        ]

    def _normalize(self, row: dict, order_carriers: list[dict], deadline: float) -> Order:
        try:
            state = self._reference_row(
                "order_states", "order_state", str(row["current_state"]), deadline
            )
            status = _status(str(row["current_state"]), state)
            shipments = []
            for carrier_row in order_carriers:
                tracking = str(carrier_row.get("tracking_number") or "").strip()
                if not tracking and status not in _SHIPPED:
                    continue  # PrestaShop creates the row at checkout, before anything ships
                carrier = self._reference_row(
                    "carriers", "carrier", str(carrier_row["id_carrier"]), deadline
                )
                template = str(carrier.get("url") or "")
                shipments.append(
                    Shipment(
                        carrier=str(carrier.get("name") or ""),
                        tracking_number=tracking,
                        tracking_url=template.replace("@", tracking)
                        if tracking and template
                        else "",
                        status=status if status in _SHIPPED else OrderStatus.IN_TRANSIT,
                    )
                )
            rows = (row.get("associations") or {}).get("order_rows") or []
            return Order(
                number=str(row["reference"]),
                created_at=_datetime(str(row["date_add"])),
                status=status,
                financial_status=_financial(status, state),
                items=tuple(
                    LineItem(
                        title=str(item.get("product_name") or ""),
                        quantity=int(item.get("product_quantity") or 0),
                    )
                    for item in rows
                ),
                shipments=tuple(shipments),
                total=Decimal(str(row["total_paid"])).quantize(Decimal("0.01")),
                currency=str(
                    self._reference_row(
                        "currencies", "currency", str(row["id_currency"]), deadline
                    ).get("iso_code", "")
                ),
                source_status=_localized(state.get("name")),
                customer_email=self._customer_email(str(row["id_customer"]), deadline),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise ConnectorBadResponse(
                "PrestaShop answered with an order in an unexpected shape."
            ) from error


def _status(state_id: str, state: dict[str, Any]) -> OrderStatus:
    if state_id in DEFAULT_STATES:
        return DEFAULT_STATES[state_id]
    if _flag(state.get("delivery")) and _flag(state.get("shipped")):
        return OrderStatus.IN_TRANSIT
    if _flag(state.get("paid")):
        return OrderStatus.PAID
    return OrderStatus.PLACED


def _financial(status: OrderStatus, state: dict[str, Any]) -> str:
    if status == OrderStatus.REFUNDED:
        return "refunded"
    if status == OrderStatus.CANCELLED:
        return "voided"
    return "paid" if _flag(state.get("paid")) or status in _SHIPPED else "pending"


def _flag(value: Any) -> bool:
    return str(value) == "1"


def _localized(value: Any) -> str:
    """A multilingual field's text: `[{"id": "1", "value": ...}, ...]` or a plain string."""
    if isinstance(value, list):
        return str(value[0].get("value", "")) if value and isinstance(value[0], dict) else ""
    return str(value or "")


def _datetime(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def _filter_value(value: str) -> str:
    """A value safe inside a PrestaShop filter (no list, interval or wildcard syntax)."""
    return "".join(ch for ch in value if ch not in "[]|,%/")
