"""Scheduled sweeps of stale orders (Celery beat, settings: CELERY_BEAT_SCHEDULE).
Each takes no arguments and is safe to run any number of times, by several workers."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from order_site.orders.services import orders_not_collected_sweep, orders_unpaid_expire


@shared_task(ignore_result=True)
def orders_not_collected_sweep_task() -> int:
    """`ready` for longer than ORDER_NOT_COLLECTED_AFTER_MINUTES → `not_collected`."""
    return orders_not_collected_sweep(
        older_than=timedelta(minutes=settings.ORDER_NOT_COLLECTED_AFTER_MINUTES)
    )


@shared_task(ignore_result=True)
def orders_unpaid_expire_task() -> int:
    """`pending_payment` for longer than ORDER_PAYMENT_EXPIRES_AFTER_MINUTES → `expired`."""
    return orders_unpaid_expire(
        older_than=timedelta(minutes=settings.ORDER_PAYMENT_EXPIRES_AFTER_MINUTES)
    )
