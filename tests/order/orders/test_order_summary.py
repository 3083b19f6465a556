"""`GET /api/orders/summary/`: the acting customer's order count and newest order, for the
BFF's profile; nobody else's orders are counted."""

from __future__ import annotations

import pytest

from order_site.orders.models import Order
from tests.order.conftest import donut_line

pytestmark = pytest.mark.django_db


def place(client, key: str) -> int:
    response = client.post(
        "/api/orders/",
        {"lines": [donut_line(1)], "payment_method": "pm_card_visa"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def test_summary_counts_every_order_of_the_customer_and_shows_the_newest(
    menu, client_for, customer, other_customer
):
    mine = client_for(customer)
    for n in range(105):  # more than the order list's first page of 100
        place(mine, f"summary-{n}")
    place(client_for(other_customer), "someone-else")
    newest = Order.objects.filter(customer_id=customer.user_id).order_by("-id").first()
    assert newest is not None

    response = mine.get("/api/orders/summary/")

    assert response.status_code == 200
    body = response.json()
    assert body["order_count"] == 105
    assert body["last_order"]["id"] == newest.id
    assert body["last_order"]["customer_id"] == customer.user_id
    assert body["last_order"]["total"] == 250


def test_summary_of_a_customer_who_never_ordered_is_zero_and_null(menu, client_for, customer):
    response = client_for(customer).get("/api/orders/summary/")

    assert response.status_code == 200
    assert response.json() == {"order_count": 0, "last_order": None}


def test_summary_needs_a_signed_in_user(client_for):
    response = client_for(None).get("/api/orders/summary/")

    assert response.status_code in (401, 403)
    assert response.headers["content-type"] == "application/problem+json"
