"""Local fakes of the order systems, one server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.aftership import FakeAfterShip
from tests.fakes.prestashop import FakePrestaShop
from tests.fakes.shopify import FakeShopify


@pytest.fixture
def shopify() -> Iterator[FakeShopify]:
    fake = FakeShopify().start()
    yield fake
    fake.stop()


@pytest.fixture
def prestashop() -> Iterator[FakePrestaShop]:
    fake = FakePrestaShop().start()
    yield fake
    fake.stop()


@pytest.fixture
def aftership() -> Iterator[FakeAfterShip]:
    fake = FakeAfterShip().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fast_retries(settings) -> None:
    """Backoff in milliseconds so fault tests stay quick; the bounds themselves are tested."""
    settings.ORDERS_HTTP_BACKOFF_SECONDS = 0.01
    settings.ORDERS_HTTP_BACKOFF_MAX_SECONDS = 0.05
