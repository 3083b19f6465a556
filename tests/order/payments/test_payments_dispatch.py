"""The dispatcher: requested charges go to Celery once, oldest first, and nothing is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from order_site.config.celery import app
from order_site.order_payments.charges import (
    CHARGE_BATCH,
    payment_charge_batch_task,
    payment_charge_task,
)
from order_site.order_payments.dispatcher import payments_dispatch, payments_dispatch_loop
from order_site.payments.models import Payment
from tests.order.factories.payments import PaymentFactory
from tests.order.payments.conftest import provider_charges


@pytest.fixture(autouse=True)
def empty_broker() -> None:
    app.control.purge()  # what earlier tests queued is not counted here


@pytest.mark.django_db
def test_each_requested_payment_is_queued_once(make_order: Any) -> None:
    payments = [PaymentFactory(order=make_order()) for _ in range(3)]

    first, again = payments_dispatch(), payments_dispatch()

    assert (first, again) == (3, 0)
    assert app.control.purge() == 1  # one message carrying the three charges
    assert all(
        p.queued_at is not None for p in Payment.objects.filter(id__in=[p.id for p in payments])
    )


@pytest.mark.django_db
def test_a_batch_takes_the_oldest_first_and_leaves_the_rest_for_the_next_round(
    make_order: Any,
) -> None:
    ids = [PaymentFactory(order=make_order()).id for _ in range(3)]

    assert payments_dispatch(limit=2) == 2
    assert [p.id for p in Payment.objects.filter(queued_at__isnull=True)] == ids[2:]
    assert payments_dispatch(limit=2) == 1


@pytest.mark.django_db
def test_a_payment_no_longer_requested_is_not_queued(make_order: Any) -> None:
    payment = PaymentFactory(order=make_order())
    payment_charge_task.apply(args=[payment.id])  # charged by someone else's task

    assert payments_dispatch() == 0
    assert app.control.purge() == 0


@pytest.mark.django_db
def test_when_publishing_fails_the_payment_stays_unqueued_for_the_next_round(
    make_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = PaymentFactory(order=make_order())

    def broker_down(ids: list[int], **traces: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr("order_site.order_payments.dispatcher.payment_charges_queue", broker_down)
    with pytest.raises(ConnectionError):
        payments_dispatch()
    monkeypatch.undo()

    assert Payment.objects.get(id=payment.id).queued_at is None
    assert payments_dispatch() == 1


@pytest.mark.django_db(transaction=True)
def test_the_loop_queues_a_placement_committed_while_it_runs(make_order: Any) -> None:
    stop = threading.Event()
    loop = threading.Thread(target=payments_dispatch_loop, kwargs={"should_stop": stop.is_set})
    loop.start()
    try:
        payment = PaymentFactory(order=make_order())
        for _ in range(100):
            if Payment.objects.get(id=payment.id).queued_at is not None:
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        loop.join(10)

    assert Payment.objects.get(id=payment.id).queued_at is not None
    assert app.control.purge() == 1


@pytest.mark.django_db
def test_many_charges_go_a_batch_to_a_message(make_order: Any) -> None:
    for _ in range(CHARGE_BATCH + 1):
        PaymentFactory(order=make_order())

    assert payments_dispatch() == CHARGE_BATCH + 1
    assert app.control.purge() == 2


@pytest.mark.django_db
def test_a_batch_charges_each_payment_once_and_skips_what_is_missing_or_done(
    make_order: Any, provider_api: Any
) -> None:
    first, second = (PaymentFactory(order=make_order()) for _ in range(2))
    payment_charge_task.apply(args=[first.id])  # already charged

    outcome = payment_charge_batch_task.apply(args=[[first.id, second.id, 10**12]]).get()

    assert outcome == {"succeeded": 2, "missing": 1}
    for payment in (first, second):
        charges = provider_charges(provider_api, payment.order_id)
        assert [c["status"] for c in charges] == ["succeeded"]


@pytest.mark.django_db
def test_a_charge_the_batch_cannot_finish_goes_on_as_its_own_task(
    make_order: Any, provider_api: Any
) -> None:
    payment = PaymentFactory(order=make_order())
    provider_api.post("/sandbox/config", json={"failure_rate": 1})

    outcome = payment_charge_batch_task.apply(args=[[payment.id]]).get()

    assert outcome == {"retrying": 1}
    assert app.control.purge() == 1  # its own payment_charge_task, with a countdown
    assert Payment.objects.get(id=payment.id).status == "requested"
    provider_api.post("/sandbox/config", json={"failure_rate": 0})
    payment_charge_task.apply(args=[payment.id])
    assert Payment.objects.get(id=payment.id).status == "succeeded"
