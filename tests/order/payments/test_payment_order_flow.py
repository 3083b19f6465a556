"""The payment side of an order's life through Order's API: placed, paid, cancelled, refunded."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from django.db import connection

from order_site.order_payments.charges import payment_charge_task
from order_site.order_payments.refunds import payment_refund_task
from order_site.order_payments.services import order_cancel
from order_site.orders.models import Order
from order_site.orders.services import PaymentInProgress
from order_site.payments.models import Payment, Refund
from order_site.users.principals import Principal
from tests.order.conftest import donut_line
from tests.order.factories.payments import PaymentFactory
from tests.order.payments.conftest import provider_charges, provider_stats

pytestmark = pytest.mark.django_db


def place(client: Any, key: str) -> Any:
    return client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(2)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
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
    Payment.objects.filter(order_id=order_id).update(
        payment_token="pm_card_chargeDeclinedInsufficientFunds"
    )

    payment_charge_task.apply(args=[Payment.objects.get(order_id=order_id).id])

    order = client_for(customer).get(f"/api/orders/{order_id}/").json()
    assert order["status"] == "payment_failed"
    assert provider_charges(provider_api, order_id, status="succeeded") == []


def test_cancelling_before_the_charge_runs_stops_it_the_provider_sees_no_charge(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    client = client_for(customer)
    order_id = place(client, "checkout-cancel-first").json()["id"]
    payment = Payment.objects.get(order_id=order_id)
    cancel = client.post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    writes = provider_stats(provider_api)["writes"]

    result = payment_charge_task.apply(args=[payment.id]).get()

    assert (cancel.status_code, result) == (200, "cancelled")
    payment.refresh_from_db()
    assert (payment.status, payment.attempts, payment.provider_reference) == ("cancelled", 0, "")
    assert provider_charges(provider_api, order_id) == []
    assert provider_stats(provider_api)["writes"] == writes  # the provider was never asked
    order = Order.objects.get(id=order_id)
    assert (order.status, order.payment_reference) == ("cancelled", "")
    assert not Refund.objects.filter(order_id=order_id).exists()


def test_a_charge_whose_answer_was_lost_is_repeated_after_a_cancel_and_refunded_once(
    make_order: Any, provider_api: httpx.Client
) -> None:
    order = make_order(total=500)
    payment = PaymentFactory(order=order)
    # The first attempt reached the provider, but its answer never came back.
    provider_api.post(
        "/v1/payment_intents",
        json={
            "amount": 500,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": str(order.id), "payment_id": str(payment.id)},
        },
        headers={"Idempotency-Key": f"order-{order.id}-charge"},
    )
    Payment.objects.filter(id=payment.id).update(attempts=1)
    order_cancel(order_id=order.id, actor=Principal(order.customer_id, frozenset({"customer"})))

    payment_charge_task.apply(args=[payment.id])
    [refund] = Refund.objects.filter(order_id=order.id)
    payment_refund_task.apply(args=[refund.id])

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    [charged] = provider_charges(provider_api, order.id)
    assert (charged["amount"], charged["amount_refunded"]) == (500, 500)
    order.refresh_from_db()
    assert order.status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_cancel_during_the_charge_waits_for_it_and_then_refunds_it_once(
    make_order: Any, provider_api: httpx.Client
) -> None:
    order = make_order(total=500)
    payment = PaymentFactory(order=order)
    provider_api.post("/sandbox/config", json={"latency_ms": 800})
    outcome: dict[str, Any] = {}

    def charge() -> None:
        try:
            outcome["charge"] = payment_charge_task.apply(args=[payment.id]).get()
        finally:
            connection.close()

    def cancel() -> None:
        try:
            actor = Principal(order.customer_id, frozenset({"customer"}))
            outcome["cancel"] = order_cancel(order_id=order.id, actor=actor).status
        finally:
            connection.close()

    charging = threading.Thread(target=charge)
    charging.start()
    time.sleep(0.3)  # the charge holds the order's lock while it waits for the provider
    cancelling = threading.Thread(target=cancel)
    cancelling.start()
    charging.join(10)
    cancelling.join(10)

    # The cancel saw the order paid (not a charge it could still stop): one refund.
    assert outcome == {"charge": "succeeded", "cancel": "cancelled"}
    [refund] = Refund.objects.filter(order_id=order.id)
    payment_refund_task.apply(args=[refund.id])
    [charged] = provider_charges(provider_api, order.id)
    assert (charged["amount"], charged["amount_refunded"]) == (500, 500)


@pytest.mark.django_db(transaction=True)
def test_a_cancel_while_the_charge_is_slow_at_the_provider_is_409_and_changes_nothing(
    make_order: Any, provider_api: httpx.Client
) -> None:
    order = make_order(total=500)
    payment = PaymentFactory(order=order)
    provider_api.post("/sandbox/config", json={"latency_ms": 4000})

    def charge() -> None:
        try:
            payment_charge_task.apply(args=[payment.id])
        finally:
            connection.close()

    charging = threading.Thread(target=charge)
    charging.start()
    time.sleep(0.5)
    actor = Principal(order.customer_id, frozenset({"customer"}))
    with pytest.raises(PaymentInProgress) as raised:
        order_cancel(order_id=order.id, actor=actor)
    charging.join(15)

    assert raised.value.status == 409
    assert "being taken right now" in raised.value.detail
    order.refresh_from_db()
    assert order.status == "placed"  # the charge went through; the cancel changed nothing
    assert not Refund.objects.filter(order_id=order.id).exists()


def test_a_paid_order_cancelled_twice_by_its_customer_is_refunded_once(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    client = client_for(customer)
    order_id = place(client, "checkout-cancel-twice").json()["id"]
    payment_charge_task.apply(args=[Payment.objects.get(order_id=order_id).id])

    first = client.post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    second = client.post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    for refund in Refund.objects.filter(order_id=order_id):
        payment_refund_task.apply(args=[refund.id])
        payment_refund_task.apply(args=[refund.id])

    assert (first.status_code, second.status_code) == (200, 409)
    refunds = provider_api.get("/v1/refunds", params={"metadata[order_id]": str(order_id)})
    assert [r["amount"] for r in refunds.json()["data"]] == [500]
    assert client.get(f"/api/orders/{order_id}/").json()["refunded"] is True


def test_the_payment_keeps_the_token_brand_and_last_four_never_the_number(
    menu: Any, client_for: Any, customer: Any, provider_api: httpx.Client
) -> None:
    token = provider_api.post(
        "/v1/payment_methods",
        json={
            "type": "card",
            "card": {"number": "5555555555554444", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
        },
    ).json()["id"]
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": token, "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="checkout-token",
    )
    payment = Payment.objects.get(order_id=response.json()["id"])

    payment_charge_task.apply(args=[payment.id])

    payment.refresh_from_db()
    assert (payment.status, payment.payment_token, payment.card_brand, payment.card_last4) == (
        "succeeded",
        token,
        "mastercard",
        "4444",
    )


def test_an_order_sent_with_a_card_number_is_400_not_echoing_it_and_writes_nothing(
    menu: Any, client_for: Any, customer: Any
) -> None:
    before = (Order.objects.count(), Payment.objects.count())

    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "4242 4242 4242 4242", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="checkout-card-number",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payment_method"]
    assert "4242" not in response.content.decode()
    assert (Order.objects.count(), Payment.objects.count()) == before


def test_an_order_without_a_payment_method_is_400_naming_it_and_writes_nothing(
    menu: Any, client_for: Any, customer: Any
) -> None:
    before = (Order.objects.count(), Payment.objects.count())

    response = client_for(customer).post(
        "/api/orders/",
        {"lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="checkout-no-method",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payment_method"]
    assert (Order.objects.count(), Payment.objects.count()) == before
