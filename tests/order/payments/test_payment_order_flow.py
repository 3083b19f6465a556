"""The payment side of an order's life through Order's API: placed, paid, cancelled, refunded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from order_site.orders.models import Order
from order_site.payments.models import Payment, Refund
from order_site.payments.tasks import payment_charge_task, payment_refund_task
from tests.order.conftest import donut_line
from tests.order.payments.conftest import provider_charges

pytestmark = pytest.mark.django_db


def place(client: Any, key: str) -> Any:
    return client.post(
        "/api/orders/", {"lines": [donut_line(2)]}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_placed_order_is_charged_once_even_when_the_placement_is_retried(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    client = client_for(customer)
    first = place(client, "checkout-1")
    order_id = first.json()["id"]
    payment = Payment.objects.get(order_id=order_id)

    payment_charge_task.apply(args=[payment.id])
    retry = place(client, "checkout-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    payment.refresh_from_db()
    assert (payment.amount, payment.currency, payment.status) == (500, "GBP", "succeeded")
    assert Payment.objects.filter(order_id=order_id).count() == 1
    charges = provider_charges(provider_api, order_id)
    assert [(c["status"], c["amount"], c["currency"]) for c in charges] == [
        ("succeeded", 500, "gbp")
    ]
    order = client.get(f"/api/orders/{order_id}/").json()
    assert order["status"] == "placed"


def test_cancelling_a_paid_order_refunds_it_at_the_provider(
    menu: Any, client_for: Any, customer: Any, manager: Any, provider_api: httpx.Client
) -> None:
    order_id = place(client_for(customer), "checkout-2").json()["id"]
    payment = Payment.objects.get(order_id=order_id)
    payment_charge_task.apply(args=[payment.id])

    cancel = client_for(manager).post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    refund = Refund.objects.get(order_id=order_id)
    payment_refund_task.apply(args=[refund.id])

    assert cancel.status_code == 200
    refund.refresh_from_db()
    assert (refund.status, refund.amount) == ("succeeded", 500)
    [charge] = provider_charges(provider_api, order_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (500, True)
    order = Order.objects.get(id=order_id)
    assert (order.status, order.refund_reference) == ("cancelled", refund.provider_reference)


def test_a_declined_card_at_checkout_ends_the_order_payment_failed(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    order_id = place(client_for(customer), "checkout-3").json()["id"]
    Payment.objects.filter(order_id=order_id).update(payment_method="4000000000009995")

    payment_charge_task.apply(args=[Payment.objects.get(order_id=order_id).id])

    order = client_for(customer).get(f"/api/orders/{order_id}/").json()
    assert order["status"] == "payment_failed"
    assert provider_charges(provider_api, order_id, status="succeeded") == []
