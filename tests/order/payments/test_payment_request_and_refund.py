"""Requesting a charge or a refund: one per order; a charge is queued by the dispatcher,
a refund (`order_payments.refunds.refund_request`) after the caller's commit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from order_site.order_payments.charges import payment_charge_task
from order_site.order_payments.refunds import payment_refund_task, refund_request
from order_site.payments.models import Payment, Refund
from order_site.payments.services import payment_request
from shared.problems import Conflict, InvalidInput
from tests.order.factories.payments import PaymentFactory
from tests.order.payments.conftest import provider_stats

pytestmark = pytest.mark.django_db


def test_payment_request_records_one_requested_payment_for_the_dispatcher(
    make_order: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order(total=550)

    with django_capture_on_commit_callbacks() as callbacks:
        payment = payment_request(
            order_id=order.id, amount=550, currency="eur", payment_method="pm_card_visa"
        )

    assert callbacks == []  # nothing published from the caller's transaction
    payment.refresh_from_db()
    assert payment.queued_at is None
    assert (payment.order_id, payment.amount, payment.currency) == (order.id, 550, "EUR")
    assert payment.status == "requested"
    assert payment.idempotency_key == f"order-{order.id}-charge"
    assert (payment.payment_token, payment.card_brand, payment.card_last4) == (
        "pm_card_visa",
        "",
        "",
    )  # brand and last four come with the provider's answer to the charge
    assert payment.attempts == 0


def test_payment_request_again_for_the_same_order_returns_the_same_payment(
    make_order: Any,
) -> None:
    order = make_order(total=550)
    first = payment_request(
        order_id=order.id, amount=550, currency="EUR", payment_method="pm_card_visa"
    )

    again = payment_request(
        order_id=order.id, amount=550, currency="EUR", payment_method="pm_card_visa"
    )

    assert again.id == first.id
    assert Payment.objects.filter(order_id=order.id).count() == 1


def test_payment_request_for_another_amount_is_a_conflict_and_changes_nothing(
    make_order: Any,
) -> None:
    order = make_order(total=550)
    first = payment_request(
        order_id=order.id, amount=550, currency="EUR", payment_method="pm_card_visa"
    )

    with pytest.raises(Conflict):
        payment_request(
            order_id=order.id, amount=600, currency="EUR", payment_method="pm_card_visa"
        )

    assert list(Payment.objects.filter(order_id=order.id).values_list("id", "amount")) == [
        (first.id, 550)
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "method"),
    [
        (0, "EUR", "pm_card_visa"),
        (-5, "EUR", "pm_card_visa"),
        (100, "EURO", "pm_card_visa"),
        (100, "EUR", "  "),
        (100, "EUR", "4242424242424242"),
        (100, "EUR", "4242 4242 4242 4242"),
        (100, "EUR", "pm_card_visa\n"),
    ],
)
def test_payment_request_with_bad_amount_currency_or_method_is_refused_and_writes_nothing(
    make_order: Any, amount: int, currency: str, method: str
) -> None:
    order = make_order()

    with pytest.raises(InvalidInput):
        payment_request(order_id=order.id, amount=amount, currency=currency, payment_method=method)

    assert Payment.objects.count() == 0


def test_a_card_number_as_payment_method_is_refused_without_repeating_it(
    make_order: Any,
) -> None:
    order = make_order()

    with pytest.raises(InvalidInput) as raised:
        payment_request(
            order_id=order.id, amount=450, currency="EUR", payment_method="4000 0000 0000 0002"
        )

    assert "0002" not in f"{raised.value.detail} {raised.value.extra}"
    assert Payment.objects.count() == 0


def paid_order(make_order: Any, total: int = 450) -> tuple[Any, Payment]:
    order = make_order(total=total)
    payment = PaymentFactory(order=order)
    payment_charge_task.apply(args=[payment.id]).get()
    payment.refresh_from_db()
    order.refresh_from_db()
    return order, payment


def test_refund_of_a_paid_order_is_refunded_once_at_the_provider_and_marks_the_order(
    make_order: Any, provider_api: httpx.Client, django_capture_on_commit_callbacks: Any
) -> None:
    order, payment = paid_order(make_order, total=450)

    with django_capture_on_commit_callbacks() as callbacks:
        refund = refund_request(order_id=order.id, amount=450)
    result = payment_refund_task.apply(args=[refund.id])
    payment_refund_task.apply(args=[refund.id])

    assert len(callbacks) == 1
    assert result.get() == "succeeded"
    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.status, refund.amount, refund.attempts) == ("succeeded", 450, 1)
    assert refund.idempotency_key == f"order-{order.id}-refund"
    assert refund.provider_reference.startswith("re_")
    at_provider = provider_api.get(
        "/v1/refunds", params={"payment_intent": payment.provider_reference}
    ).json()["data"]
    assert [(r["id"], r["amount"]) for r in at_provider] == [(refund.provider_reference, 450)]
    assert order.refund_reference == refund.provider_reference
    assert order.refunded_at is not None


def test_refund_request_twice_returns_the_same_refund(make_order: Any) -> None:
    order, _ = paid_order(make_order)
    first = refund_request(order_id=order.id, amount=450)

    again = refund_request(order_id=order.id, amount=450)

    assert again.id == first.id
    assert Refund.objects.filter(order_id=order.id).count() == 1


def test_refund_of_an_order_without_a_successful_payment_is_a_conflict_and_writes_nothing(
    make_order: Any, provider_api: httpx.Client
) -> None:
    order = make_order()
    payment_request(
        order_id=order.id, amount=450, currency="EUR", payment_method="pm_card_chargeDeclined"
    )
    before = provider_stats(provider_api)

    with pytest.raises(Conflict):
        refund_request(order_id=order.id, amount=450)

    assert Refund.objects.count() == 0
    assert provider_stats(provider_api)["writes"] == before["writes"]


def test_refund_larger_than_the_charge_is_refused_and_writes_nothing(make_order: Any) -> None:
    order, _ = paid_order(make_order, total=450)

    with pytest.raises(InvalidInput):
        refund_request(order_id=order.id, amount=451)

    assert Refund.objects.count() == 0
