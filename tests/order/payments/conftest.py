"""Fixtures of the payments tests: the sandbox provider the test run started, and orders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings

from order_site.orders.models import Order
from order_site.payments.providers import payment_breaker
from tests.order.factories.orders import OrderFactory


@pytest.fixture
def provider_api() -> Iterator[httpx.Client]:
    """The sandbox provider's API, as the shop's own account sees it."""
    with httpx.Client(
        base_url=settings.PAYMENT_PROVIDER_URL,
        headers={"Authorization": f"Bearer {settings.PAYMENT_PROVIDER_KEY}"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def calm_provider(provider_api: httpx.Client, settings: Any) -> Iterator[None]:
    """Every test starts with a healthy, fast provider and a closed breaker."""
    settings.PAYMENT_PROVIDER_BACKOFF = 0.01
    calm = {"latency_ms": 0, "failure_rate": 0, "fail_next": 0}
    assert provider_api.post("/sandbox/config", json=calm).status_code == 200
    payment_breaker().reset()
    yield
    provider_api.post("/sandbox/config", json=calm)
    payment_breaker().reset()


@pytest.fixture
def make_order(db: Any) -> Any:
    """An order waiting for its payment: one line at `total`, in euros (the factory's,
    lines and status history included)."""

    def make(total: int = 450) -> Order:
        return OrderFactory(total=total, currency="EUR")

    return make


def provider_charges(api: httpx.Client, order_id: int, **query: str) -> list[dict[str, Any]]:
    """Every charge attempt the provider holds for an order (`status=succeeded`: money taken)."""
    response = api.get("/v1/charges", params={"metadata[order_id]": str(order_id), **query})
    assert response.status_code == 200
    return list(response.json()["data"])


def provider_stats(api: httpx.Client) -> dict[str, int]:
    return dict(api.get("/sandbox/stats").json())
