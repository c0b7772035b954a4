from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from copilot.tools import register
        from orders.tools import FETCH_ORDERS

        register(FETCH_ORDERS)
