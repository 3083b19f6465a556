"""Celery tasks of payments: take ids, call one service, safe to run any number of times.

The dispatcher queues charges a few to a message (`payment_charge_batch_task`); a
charge that cannot finish there goes on as its own `payment_charge_task`.

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


# Charges per Celery message from the dispatcher: publishing a message costs about as
# much CPU as the charge itself, and a handful per message still spreads them over
# the worker's processes.
CHARGE_BATCH = 8


def payment_charges_queue(payment_ids: list[int]) -> None:
    """Publish the charges, CHARGE_BATCH to a message, over one broker connection."""
    with payment_charge_batch_task.app.producer_or_acquire() as producer:
        for start in range(0, len(payment_ids), CHARGE_BATCH):
            batch = payment_ids[start : start + CHARGE_BATCH]
            payment_charge_batch_task.apply_async(args=(batch,), producer=producer)


@shared_task(acks_late=True)
def payment_charge_batch_task(payment_ids: list[int]) -> dict[str, int]:
    """Charge each payment in turn; answers how many ended in each status.

    A payment this run cannot finish (the provider unreachable, the breaker open, any
    error) is handed to its own `payment_charge_task`, which retries it with backoff
    as if it had been queued alone; the others go on. A batch re-delivered after its
    worker died charges nothing twice: finished payments are skipped, and a repeated
    provider call carries the same idempotency key.
    """
    outcomes: dict[str, int] = {}
    for payment_id in payment_ids:
        try:
            status = services.payment_charge(payment_id=payment_id).status
        except NotFound:
            logger.warning("payment %s does not exist; nothing to charge", payment_id)
            status = "missing"
        except Exception as exc:
            logger.warning("payment %s: retried on its own (%s)", payment_id, exc)
            payment_charge_task.apply_async(args=(payment_id,), countdown=BACKOFF)
            status = "retrying"
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


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
