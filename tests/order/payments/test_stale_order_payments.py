"""Stale orders at the payment provider (issue 11): a rejected order is refunded once; an
expired unpaid order is never charged; a charge already tried is followed to its end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from order_site.order_payments.charges import payment_charge_task
from order_site.order_payments.refunds import payment_refund_task
from order_site.orders.models import Order
from order_site.orders.services import orders_unpaid_expire
from order_site.payments.models import Payment, Refund
from tests.order.conftest import donut_line
from tests.order.payments.conftest import provider_charges, provider_stats

pytestmark = pytest.mark.django_db


def place(client: Any, key: str) -> int:
    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(2)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201
    return int(response.json()["id"])


def test_an_order_rejected_twice_is_refunded_once_at_the_provider(
    menu: Any, client_for: Any, customer: Any, barista: Any, provider_api: httpx.Client
) -> None:
    order_id = place(client_for(customer), "reject-twice")
    payment_charge_task.apply(args=[Payment.objects.get(order_id=order_id).id])
    staff = client_for(barista)

    first = staff.post(
        f"/api/orders/{order_id}/reject/", {"reason": "Out of oat milk"}, format="json"
    )
    second = staff.post(
        f"/api/orders/{order_id}/reject/", {"reason": "Out of oat milk"}, format="json"
    )
    for refund in Refund.objects.filter(order_id=order_id):
        payment_refund_task.apply(args=[refund.id])
        payment_refund_task.apply(args=[refund.id])

    assert (first.status_code, second.status_code) == (200, 409)
    refunds = provider_api.get("/v1/refunds", params={"metadata[order_id]": str(order_id)})
    assert [r["amount"] for r in refunds.json()["data"]] == [500]
    [charge] = provider_charges(provider_api, order_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (500, True)
    order = Order.objects.get(id=order_id)
    assert (order.status, order.refunded_at is not None) == ("rejected", True)


def test_an_expired_unpaid_order_is_never_charged(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    order_id = place(client_for(customer), "expire-unpaid")
    payment = Payment.objects.get(order_id=order_id)
    Order.objects.filter(id=order_id).update(created_at=timezone.now() - timedelta(minutes=31))
    writes = provider_stats(provider_api)["writes"]

    expired = orders_unpaid_expire(older_than=timedelta(minutes=30))
    # The charge task arrives late (it was queued before the order expired).
    result = payment_charge_task.apply(args=[payment.id]).get()

    assert (expired, result) == (1, "cancelled")
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("cancelled", 0)
    assert provider_charges(provider_api, order_id) == []
    assert provider_stats(provider_api)["writes"] == writes  # the provider was never asked
    assert Order.objects.get(id=order_id).status == "expired"


def test_a_charge_already_at_the_provider_when_its_order_expires_is_refunded_once(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    order_id = place(client_for(customer), "expire-tried")
    payment = Payment.objects.get(order_id=order_id)
    # The first attempt reached the provider, but its answer never came back.
    provider_api.post(
        "/v1/payment_intents",
        json={
            "amount": 500,
            "currency": "gbp",
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": str(order_id), "payment_id": str(payment.id)},
        },
        headers={"Idempotency-Key": f"order-{order_id}-charge"},
    )
    Payment.objects.filter(id=payment.id).update(attempts=1)
    Order.objects.filter(id=order_id).update(created_at=timezone.now() - timedelta(minutes=31))

    orders_unpaid_expire(older_than=timedelta(minutes=30))
    payment_charge_task.apply(args=[payment.id])
    [refund] = Refund.objects.filter(order_id=order_id)
    payment_refund_task.apply(args=[refund.id])

    [charged] = provider_charges(provider_api, order_id)
    assert (charged["amount"], charged["amount_refunded"]) == (500, 500)
    order = Order.objects.get(id=order_id)
    assert (order.status, order.refunded_at is not None) == ("expired", True)
