"""Which service the BFF blames when a call to Order fails, and what Order's breaker counts.

Order runs here under gunicorn on the test stack's Order port; Identity does not run
at all. The BFF holds an Order service token it got earlier (put in its cache here,
as if Identity had issued it before going down), so Order has to introspect it and
cannot: it answers 503 naming Identity.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from bff_site.clients.http import order_service
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from devstack.base import Process, free_port
from devstack.stack import Stack
from shared.problems import TYPE_BASE
from shared.resilience import CircuitBreaker


def unavailable(downstream: str, reason: str) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + "service-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": f"{downstream} is unavailable",
        "downstream": downstream,
        "reason": reason,
    }


@pytest.fixture(scope="module")
def order(test_stack: Stack) -> Iterator[Process]:
    """A running Order site (its database migrated); Identity stays down."""
    test_stack.manage("order", "migrate", "--noinput")
    test_stack.restart_site("order")
    process = test_stack.process("order")
    assert process is not None
    try:
        yield process
    finally:
        process.stop(timeout=10)


@pytest.fixture
def breaker(settings: Any) -> Iterator[CircuitBreaker]:
    """Order's breaker in the BFF (shared through Redis), closed with no history.

    The BFF's timeout is raised for these tests: they are about which answers the
    breaker counts, and on a loaded machine a slow (not failed) Order would time out
    and rightly count as a failure.
    """
    settings.DOWNSTREAM_TIMEOUT = 30.0
    cache.clear()
    order_service.cache_clear()
    found = order_service().breaker
    assert found is not None
    found.reset()
    yield found
    order_service.cache_clear()


def history(breaker: CircuitBreaker) -> tuple[str, int, list[int]]:
    """(state, consecutive failures, outcomes of the latest calls: 1 failure, 0 success)."""
    return breaker.store.transact(
        breaker.name, lambda st: (st.state, st.consecutive_failures, list(st.window))
    )


def signed_in_customer() -> Client:
    client = Client()
    session = client.session
    session[USER_KEY] = {
        "id": "8080",
        "email": "cora@coffeeshop.test",
        "name": "Cora",
        "roles": ["customer"],
    }
    session[TOKENS_KEY] = {
        "access_token": "user-access-token",
        "refresh_token": "user-refresh-token",
        "id_token": "user-id-token",
        "expires_at": time.time() + 3600,
    }
    session.save()
    return client


def order_calls(process: Process, since: int) -> list[tuple[str, int]]:
    """(method and path, status) of each request Order's access log shows after `since`,
    but probes (a readiness check still being written when `since` was read)."""
    with process.logfile.open("rb") as log:
        log.seek(since)
        lines = log.read().decode(errors="replace").splitlines()
    calls = []
    for line in lines:
        if line.startswith('{"access"'):
            entry = json.loads(line)
            if entry["access"].split(" ")[-1] not in ("/readyz", "/healthz"):
                calls.append((entry["access"], entry["status"]))
    return calls


def test_order_unable_to_reach_identity_is_503_naming_identity_not_an_order_failure(
    order: Process, breaker: CircuitBreaker
) -> None:
    cache.set("order-token:customer", f"never-introspected-{uuid.uuid4()}", 300)
    client = signed_in_customer()
    since = order.logfile.stat().st_size

    # More calls than the breaker's 5 consecutive failures, each retryable.
    listed = [client.get("/api/orders") for _ in range(6)]
    placed = client.post(
        "/api/orders",
        data={"lines": [{"product_id": 1, "quantity": 1}], "payment_method": "pm_card_visa"},
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )

    for response in [*listed, placed]:
        assert response.status_code == 503
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == unavailable("identity", "order could not reach it")
    assert history(breaker) == ("closed", 0, [0] * 7)
    # Order already tried Identity; the BFF asks Order once per call, never again.
    assert order_calls(order, since) == [
        *[("GET /api/orders/", 503)] * 6,
        ("POST /api/orders/", 503),
    ]


@pytest.fixture
def order_down(settings: Any) -> Iterator[None]:
    """Order's URL points at a port where nothing listens."""
    settings.ORDER_URL = f"http://127.0.0.1:{free_port()}"
    order_service.cache_clear()
    yield
    order_service.cache_clear()


def test_order_down_is_still_503_naming_order_and_counts_against_its_breaker(
    order_down: None, breaker: CircuitBreaker
) -> None:
    cache.set("order-token:customer", f"never-introspected-{uuid.uuid4()}", 300)
    client = signed_in_customer()

    response = client.get("/api/orders")

    assert response.status_code == 503
    assert response.json() == unavailable("order", "connection refused or failed")
    # One call, retried twice: three failures.
    assert history(breaker) == ("closed", 3, [1, 1, 1])
