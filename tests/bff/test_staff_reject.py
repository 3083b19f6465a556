"""Rejecting an order through the BFF (issue 11): staff only, a reason required, the
reason carried to the customer's order page and live update. Order's URL points at a
closed port here, so a call the BFF forwarded would show in Order's circuit breaker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from bff_site.clients.http import order_service
from bff_site.clients.order import order_view
from bff_site.gateway import live
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from devstack.base import free_port
from shared.events import build_envelope
from shared.resilience import CircuitBreaker


@pytest.fixture
def order_unreachable(settings: Any) -> Iterator[CircuitBreaker]:
    cache.clear()
    settings.ORDER_URL = f"http://127.0.0.1:{free_port()}"
    order_service.cache_clear()
    breaker = order_service().breaker
    assert breaker is not None
    breaker.reset()
    yield breaker
    order_service.cache_clear()


def forwarded(breaker: CircuitBreaker) -> list[int]:
    return breaker.store.transact(breaker.name, lambda st: list(st.window))


def signed_in(roles: list[str]) -> Client:
    client = Client()
    session = client.session
    session[USER_KEY] = {"id": "8080", "email": "b@coffeeshop.test", "name": "B", "roles": roles}
    session[TOKENS_KEY] = {
        "access_token": "a",
        "refresh_token": "r",
        "id_token": "i",
        "expires_at": time.time() + 3600,
    }
    session.save()
    return client


def test_a_customer_cannot_reject_and_nothing_is_forwarded(
    order_unreachable: CircuitBreaker,
) -> None:
    response = signed_in(["customer"]).post(
        "/api/staff/orders/5/reject", {"reason": "no"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert forwarded(order_unreachable) == []


@pytest.mark.parametrize("body", [{}, {"reason": None}, {"reason": 7}])
def test_a_reject_without_a_reason_is_400_naming_it_and_nothing_is_forwarded(
    order_unreachable: CircuitBreaker, body: dict[str, Any]
) -> None:
    response = signed_in(["barista"]).post(
        "/api/staff/orders/5/reject", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["required"]}
    assert forwarded(order_unreachable) == []


def order_from_order_site(status: str, history: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": 5,
        "number": "A-005",
        "status": status,
        "total": 500,
        "currency": "GBP",
        "created_at": "2026-12-04T09:59:00Z",
        "lines": [],
        "history": [
            {
                "from_status": "",
                "to_status": to,
                "actor_id": None,
                "at": "2026-12-04T10:00:00Z",
                "note": note,
            }
            for to, note in history
        ],
    }


def test_a_rejected_order_says_why_in_its_status_reason() -> None:
    order = order_from_order_site(
        "rejected",
        [("pending_payment", ""), ("placed", "payment captured"), ("rejected", "Out of oat milk")],
    )

    assert order_view(order)["status_reason"] == "Out of oat milk"


def test_an_order_still_going_has_no_status_reason() -> None:
    order = order_from_order_site("placed", [("placed", "payment captured")])

    assert order_view(order)["status_reason"] is None


def test_the_live_update_of_a_rejected_order_carries_its_reason() -> None:
    envelope = build_envelope(
        event_type="order.status_changed",
        payload={
            "order_id": 5,
            "customer_id": 8080,
            "status": "rejected",
            "total": 500,
            "currency": "GBP",
            "from_status": "placed",
            "to_status": "rejected",
            "reason": "Out of oat milk",
        },
    )

    found = live.message_for(envelope)

    assert found is not None
    customer, message = found
    assert (customer, message["status"], message["reason"]) == (
        "8080",
        "rejected",
        "Out of oat milk",
    )
