"""Celery tasks of payments: take ids, call one service, safe to run any number of times.

Retries: `Unavailable` (timeout, connection error, 5xx, circuit open) is retried
with exponential backoff and jitter, up to MAX_RETRIES; the payment stays
`requested` meanwhile. Late acknowledgement (settings: CELERY_TASK_ACKS_LATE and
REJECT_ON_WORKER_LOST) re-delivers a task whose worker died mid-charge; the
provider's idempotency key makes that repeat charge nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from order_site.payments import services
from shared.problems import NotFound, Unavailable

logger = logging.getLogger("coffeeshop.payments")

MAX_RETRIES = 10
BACKOFF = 2  # seconds before the first retry, doubling each time (with jitter)
BACKOFF_MAX = 300


@shared_task(
    bind=True,
    autoretry_for=(Unavailable,),
    retry_backoff=BACKOFF,
    retry_backoff_max=BACKOFF_MAX,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    acks_late=True,
)
def payment_charge_task(self: Task[Any, Any], payment_id: int) -> str:
    """Charge the payment; answers its status (requested only while it can't reach the provider)."""
    try:
        return services.payment_charge(payment_id=payment_id).status
    except NotFound:
        logger.warning("payment %s does not exist; nothing to charge", payment_id)
        return "missing"


def payment_charges_queue(payment_ids: list[int]) -> None:
    """Publish one charge task per payment over one broker connection."""
    with payment_charge_task.app.producer_or_acquire() as producer:
        for payment_id in payment_ids:
            payment_charge_task.apply_async(args=(payment_id,), producer=producer)


@shared_task(
    bind=True,
    autoretry_for=(Unavailable,),
    retry_backoff=BACKOFF,
    retry_backoff_max=BACKOFF_MAX,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    acks_late=True,
)
def payment_refund_task(self: Task[Any, Any], refund_id: int) -> str:
    """Refund at the provider; answers the refund's status."""
    try:
        return services.payment_refund(refund_id=refund_id).status
    except NotFound:
        logger.warning("refund %s does not exist; nothing to refund", refund_id)
        return "missing"
