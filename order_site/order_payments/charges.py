"""A charge and its order: the provider asked once, its answer recorded together with
the order's move (`order_mark_paid` or `order_mark_payment_failed`) in one
transaction; the charge tasks.

The payment's row is locked first (duplicate tasks wait, then find it final), then
the order's (`order_chargeable`), held through the provider call: a cancel waits for
the charge's outcome, and a charge after a committed cancel sees it and charges
nothing (the payment becomes `cancelled`). Only a payment never tried is dropped so:
after an attempt whose answer was lost the provider may have charged, so the call is
repeated with its key (the provider replays it) and a charge that lands on a
cancelled or expired order is refunded in full at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from celery import shared_task
from django.db import transaction
from opentelemetry import trace
from opentelemetry.trace import Link

from order_site.order_payments.refunds import order_refund_in_full
from order_site.orders.models import OrderStatus
from order_site.orders.services import (
    order_chargeable,
    order_mark_paid,
    order_mark_payment_failed,
)
from order_site.payments.models import Payment, PaymentStatus
from order_site.payments.provider_tasks import BACKOFF, ProviderTask
from order_site.payments.providers import PaymentProvider
from order_site.payments.services import payment_attempt, payment_cancel, payment_locked
from shared import telemetry
from shared.problems import NotFound

logger = logging.getLogger("coffeeshop.payments")


@shared_task(bind=True, base=ProviderTask)
def payment_charge_task(self: ProviderTask, payment_id: int) -> str:
    """Charge the payment; answers its status (requested only while it can't reach the provider)."""
    try:
        return payment_charge(payment_id=payment_id).status
    except NotFound:
        logger.warning("payment %s does not exist; nothing to charge", payment_id)
        return "missing"


# Charges per Celery message from the dispatcher: publishing a message costs about as
# much CPU as the charge itself, and a handful per message still spreads them over
# the worker's processes.
CHARGE_BATCH = 8


def payment_charges_queue(
    payment_ids: list[int], *, traceparents: Mapping[int, str] | None = None
) -> None:
    """Publish the charges, CHARGE_BATCH to a message, over one broker connection.

    `traceparents` (payment id → its placement's) carry each order's trace on: a
    message is published in the trace of its first payment, linked to the others', and
    carries every payment's so the worker charges each in its own order's trace."""
    traceparents = traceparents or {}
    with payment_charge_batch_task.app.producer_or_acquire() as producer:
        for start in range(0, len(payment_ids), CHARGE_BATCH):
            batch = payment_ids[start : start + CHARGE_BATCH]
            carried = [traceparents.get(payment_id, "") for payment_id in batch]
            with _dispatch_span(batch, carried):
                payment_charge_batch_task.apply_async(
                    args=(batch,),
                    kwargs={"traceparents": carried} if any(carried) else {},
                    producer=producer,
                )


def _dispatch_span(batch: list[int], carried: list[str]) -> AbstractContextManager[trace.Span]:
    parents = [telemetry.context_from(value) for value in carried]
    links = [
        Link(trace.get_current_span(context).get_span_context())
        for context in parents[1:]
        if context is not None
    ]
    return telemetry.tracer().start_as_current_span(
        "payments dispatch",
        context=parents[0],
        links=links,
        attributes={"coffeeshop.payments": len(batch)},
    )


@contextmanager
def _charge_span(payment_id: int, traceparent: str) -> Iterator[None]:
    """The span one payment of a batch is charged in: under the task's span when the
    message was sent in this payment's trace, else in the payment's own trace (linked
    to the task's), so every charge shows in its order's trace."""
    running = trace.get_current_span().get_span_context()
    parent = telemetry.context_from(traceparent)
    own = trace.get_current_span(parent).get_span_context() if parent else None
    if own is None or own.trace_id == running.trace_id:
        parent, links = None, []
    else:
        links = [Link(running)] if running.is_valid else []
    with telemetry.tracer().start_as_current_span("payment charge", context=parent, links=links):
        telemetry.annotate(payment_id=payment_id)
        yield


@shared_task(acks_late=True)
def payment_charge_batch_task(
    payment_ids: list[int], traceparents: list[str] | None = None
) -> dict[str, int]:
    """Charge each payment in turn; answers how many ended in each status.

    A payment this run cannot finish (the provider unreachable, the breaker open, any
    error) is handed to its own `payment_charge_task`, which retries it with backoff
    as if it had been queued alone; the others go on. A batch re-delivered after its
    worker died charges nothing twice: finished payments are skipped, and a repeated
    provider call carries the same idempotency key.
    """
    outcomes: dict[str, int] = {}
    carried = traceparents or []
    for index, payment_id in enumerate(payment_ids):
        with _charge_span(payment_id, carried[index] if index < len(carried) else ""):
            try:
                status = payment_charge(payment_id=payment_id).status
            except NotFound:
                logger.warning("payment %s does not exist; nothing to charge", payment_id)
                status = "missing"
            except Exception as exc:
                logger.warning("payment %s: retried on its own (%s)", payment_id, exc)
                payment_charge_task.apply_async(args=(payment_id,), countdown=BACKOFF)
                status = "retrying"
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


def payment_charge(*, payment_id: int, provider: PaymentProvider | None = None) -> Payment:
    """Charge a requested payment at the provider, once; record the outcome and move the
    order with it, in one transaction.

    Final payments are returned unchanged. When the order was cancelled (or expired)
    before its first attempt, the provider is not called and the payment becomes
    `cancelled`. On success the payment is `succeeded` and the order paid (or, when it
    was cancelled or expired meanwhile, refunded in full); on a decline the payment is
    `failed` with the provider's code and reason and the order's payment failed.
    Raises NotFound for an unknown payment, Unavailable when the provider can't be
    reached (the attempt is recorded, the payment stays `requested`) and
    ProviderRejected when it refuses the request.
    """
    with transaction.atomic():
        payment = payment_locked(payment_id=payment_id)
        telemetry.annotate(order_id=payment.order_id, payment_id=payment.id)
        if payment.status != PaymentStatus.REQUESTED:
            return payment
        if payment.attempts == 0 and not order_chargeable(order_id=payment.order_id):
            payment_cancel(payment)
            logger.info(
                "payment %s: order %s was cancelled; not charged", payment.id, payment.order_id
            )
            return payment
        error = payment_attempt(payment, provider=provider)
        if payment.status == PaymentStatus.SUCCEEDED:
            order = order_mark_paid(
                order_id=payment.order_id, payment_reference=payment.provider_reference
            )
            if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                order_refund_in_full(order_id=order.id, reason=f"paid after it was {order.status}")
        elif payment.status == PaymentStatus.FAILED:
            order_mark_payment_failed(order_id=payment.order_id, reason=payment.failure_reason)
    if error is not None:
        logger.warning("payment %s: attempt %d failed: %s", payment_id, payment.attempts, error)
        raise error
    logger.info("payment %s of order %s: %s", payment.id, payment.order_id, payment.status)
    return payment
