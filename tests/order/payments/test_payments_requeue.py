"""Queueing again charges and refunds that stayed `requested` too long."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from order_site.config.celery import app
from order_site.order_payments.charges import payment_charge_task
from order_site.order_payments.dispatcher import payments_dispatch, payments_requeue_stale
from order_site.order_payments.refunds import refund_request
from order_site.payments.models import Payment, Refund
from tests.order.factories.payments import PaymentFactory

pytestmark = pytest.mark.django_db


def test_only_payments_requested_for_longer_than_the_limit_go_back_to_the_dispatcher(
    make_order: Any,
) -> None:
    stale = PaymentFactory(order=make_order())
    fresh = PaymentFactory(order=make_order())
    done = PaymentFactory(order=make_order())
    app.control.purge()
    assert payments_dispatch() == 3
    app.control.purge()  # the three tasks: say they were lost
    payment_charge_task.apply(args=[done.id])
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Payment.objects.filter(id__in=[stale.id, done.id]).update(updated_at=an_hour_ago)

    counts = payments_requeue_stale(older_than=timedelta(minutes=15))

    assert counts == (1, 0)
    assert Payment.objects.get(id=stale.id).queued_at is None
    assert Payment.objects.get(id=fresh.id).queued_at is not None
    assert payments_dispatch() == 1
    assert app.control.purge() == 1
    assert Payment.objects.get(id=fresh.id).status == "requested"


def test_a_refund_requested_for_longer_than_the_limit_is_queued_again(
    make_order: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order()
    payment = PaymentFactory(order=order)
    payment_charge_task.apply(args=[payment.id])
    refund = refund_request(order_id=order.id, amount=450)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Refund.objects.filter(id=refund.id).update(updated_at=an_hour_ago)
    Payment.objects.filter(id=payment.id).update(updated_at=an_hour_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        counts = payments_requeue_stale(older_than=timedelta(minutes=15))

    assert counts == (0, 1)
    assert len(callbacks) == 1
