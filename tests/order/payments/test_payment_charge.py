"""Charging an order's payment at the (sandbox) provider: once, whatever happens."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from django.db import connection

from order_site.order_payments.charges import payment_charge, payment_charge_task
from order_site.payments.models import Payment
from shared.http import DownstreamUnavailable
from shared.resilience import CircuitOpen
from tests.order.factories.payments import PaymentFactory
from tests.order.payments.conftest import provider_charges, provider_stats

pytestmark = pytest.mark.django_db

DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_chargeDeclinedInsufficientFunds"
PROCESSING_ERROR = "pm_card_chargeDeclinedProcessingError"


def requested(order: Any, card: str = "pm_card_visa") -> Payment:
    return PaymentFactory(order=order, payment_token=card)


def test_charge_with_the_good_test_card_succeeds_and_marks_the_order_paid(
    make_order: Any, provider_api: httpx.Client
) -> None:
    order = make_order(total=450)
    payment = requested(order)

    result = payment_charge_task.apply(args=[payment.id])

    assert result.get() == "succeeded"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.provider_reference.startswith("pi_")
    assert (payment.attempts, payment.failure_code, payment.failure_reason) == (1, "", "")
    assert payment.completed_at is not None
    [charge] = provider_charges(provider_api, order.id)
    assert (charge["status"], charge["amount"], charge["currency"]) == ("succeeded", 450, "eur")
    assert charge["payment_intent"] == payment.provider_reference
    assert order.status == "placed"
    assert order.payment_reference == payment.provider_reference


@pytest.mark.parametrize(
    ("card", "code", "reason"),
    [
        (DECLINED, "generic_decline", "Your card was declined."),
        (INSUFFICIENT_FUNDS, "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_declined_card_ends_failed_with_the_providers_reason(
    make_order: Any, provider_api: httpx.Client, card: str, code: str, reason: str
) -> None:
    order = make_order()
    payment = requested(order, card)

    result = payment_charge_task.apply(args=[payment.id])

    assert result.get() == "failed"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.failure_code, payment.failure_reason) == (
        "failed",
        code,
        reason,
    )
    assert payment.attempts == 1
    assert [c["status"] for c in provider_charges(provider_api, order.id)] == ["failed"]
    assert provider_charges(provider_api, order.id, status="succeeded") == []
    assert order.status == "payment_failed"
    assert order.failure_reason == reason
    assert order.payment_reference == ""


def test_the_same_task_run_twice_charges_once(make_order: Any, provider_api: httpx.Client) -> None:
    order = make_order()
    payment = requested(order)
    payment_charge_task.apply(args=[payment.id])
    before = provider_stats(provider_api)

    again = payment_charge_task.apply(args=[payment.id])

    assert again.get() == "succeeded"
    payment.refresh_from_db()
    assert payment.attempts == 1
    assert len(provider_charges(provider_api, order.id)) == 1
    # The second run saw a final payment and did not even call the provider.
    assert provider_stats(provider_api)["writes"] == before["writes"]


def test_a_charge_whose_answer_was_lost_is_not_repeated_by_the_retry(
    make_order: Any, provider_api: httpx.Client
) -> None:
    # A first attempt reached the provider, but its answer never came back (a timeout
    # or a killed worker): the provider holds the charge, our row still says requested.
    order = make_order()
    payment = requested(order)
    lost = provider_api.post(
        "/v1/payment_intents",
        json={
            "amount": payment.amount,
            "currency": "eur",
            "payment_method": payment.payment_token,
            "metadata": {"order_id": str(order.id), "payment_id": str(payment.id)},
        },
        headers={"Idempotency-Key": f"order-{order.id}-charge"},
    ).json()

    payment_charge_task.apply(args=[payment.id])

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.provider_reference == lost["id"]
    assert len(provider_charges(provider_api, order.id)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_tasks_charge_once(
    make_order: Any, provider_api: httpx.Client
) -> None:
    order = make_order()
    payment = requested(order)
    provider_api.post("/sandbox/config", json={"latency_ms": 300})
    before = provider_stats(provider_api)
    answers: list[str] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            answers.append(payment_charge_task.apply(args=[payment.id]).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == ["succeeded"] * 4
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("succeeded", 1)
    assert len(provider_charges(provider_api, order.id)) == 1
    assert provider_stats(provider_api)["writes"] - before["writes"] == 1


def test_provider_500s_then_recovers_the_task_retries_and_charges_once(
    make_order: Any, provider_api: httpx.Client, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER_RETRIES = 2  # three calls per task run
    settings.PAYMENT_BREAKER_FAILURES = 5
    order = make_order()
    payment = requested(order)
    # Four failures: the first run's three calls, then the retried run's first call.
    provider_api.post("/sandbox/config", json={"fail_next": 4})
    before = provider_stats(provider_api)

    result = payment_charge_task.apply(args=[payment.id])

    assert result.get() == "succeeded"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.attempts, payment.last_error) == ("succeeded", 2, "")
    assert len(provider_charges(provider_api, order.id)) == 1
    after = provider_stats(provider_api)
    assert after["injected_failures"] - before["injected_failures"] == 4
    assert after["writes"] - before["writes"] == 5
    assert order.status == "placed"


def test_an_unknown_outcome_leaves_the_payment_requested_and_the_order_pending(
    make_order: Any, provider_api: httpx.Client, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER_RETRIES = 0
    order = make_order()
    payment = requested(order, PROCESSING_ERROR)

    with pytest.raises(DownstreamUnavailable) as caught:
        payment_charge(payment_id=payment.id)

    assert caught.value.detail == "payment provider is unavailable"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.attempts, payment.provider_reference) == ("requested", 1, "")
    assert payment.last_error == "payment provider is unavailable: answered 500"
    assert provider_charges(provider_api, order.id) == []
    assert order.status == "pending_payment"


def test_breaker_opens_after_n_failures_and_answers_unavailable_naming_the_provider(
    make_order: Any, provider_api: httpx.Client, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER_RETRIES = 0
    settings.PAYMENT_BREAKER_FAILURES = 3
    order = make_order()
    payment = requested(order)
    provider_api.post("/sandbox/config", json={"failure_rate": 1.0})
    before = provider_stats(provider_api)
    for _ in range(3):
        with pytest.raises(DownstreamUnavailable):
            payment_charge(payment_id=payment.id)

    with pytest.raises(CircuitOpen) as caught:
        payment_charge(payment_id=payment.id)

    assert caught.value.status == 503
    assert caught.value.detail == "payment provider is unavailable"
    assert caught.value.extra["downstream"] == "payment provider"
    # The open breaker made no call: the provider saw the three failed ones only.
    assert provider_stats(provider_api)["writes"] - before["writes"] == 3
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.attempts) == ("requested", 4)
    assert payment.last_error == "payment provider is unavailable: circuit breaker open"
    assert provider_charges(provider_api, order.id) == []
    assert order.status == "pending_payment"


def test_task_for_a_payment_that_does_not_exist_does_nothing(provider_api: httpx.Client) -> None:
    before = provider_stats(provider_api)

    result = payment_charge_task.apply(args=[987654321])

    assert result.get() == "missing"
    assert provider_stats(provider_api)["writes"] == before["writes"]
