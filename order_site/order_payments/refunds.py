"""A refund and its order: requested (its task queued once the request commits),
carried out at the provider and recorded on the order in one transaction.

The refund task is declared here, beside the requests that queue it, so that the
charge flow (which refunds a charge landing on a cancelled order) can queue it
without a cycle between the flows and the tasks.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from order_site.orders.services import order_mark_refunded
from order_site.payments.models import PaymentStatus, Refund
from order_site.payments.provider_tasks import ProviderTask
from order_site.payments.providers import PaymentProvider
from order_site.payments.services import (
    NothingToRefund,
    payment_refund_request,
    refund_attempt,
    refund_locked,
)
from shared.problems import NotFound

logger = logging.getLogger("coffeeshop.payments")


@shared_task(bind=True, base=ProviderTask)
def payment_refund_task(self: ProviderTask, refund_id: int) -> str:
    """Refund at the provider; answers the refund's status."""
    try:
        return payment_refund(refund_id=refund_id).status
    except NotFound:
        logger.warning("refund %s does not exist; nothing to refund", refund_id)
        return "missing"


def refund_request(
    *,
    order_id: int,
    amount: int | None,
    reason: str = "",
    requested_by: int | None = None,
    key: str | None = None,
    fingerprint: str = "",
) -> Refund:
    """Record a refund of an order's charge (`payments.services.payment_refund_request`:
    its arguments, rules and errors) and queue a new one's task when the caller's
    transaction commits; asking again returns the refund already asked for."""
    refund, created = payment_refund_request(
        order_id=order_id,
        amount=amount,
        reason=reason,
        requested_by=requested_by,
        key=key,
        fingerprint=fingerprint,
    )
    if created:
        payment_refund_task.delay_on_commit(refund.id)
    return refund


def order_refund_in_full(
    *, order_id: int, reason: str = "", requested_by: int | None = None
) -> Refund | None:
    """The order's full refund, once per order (its key derives from the order): whatever
    of its charge a manager has not refunded yet; None when that is nothing."""
    try:
        return refund_request(
            order_id=order_id, amount=None, reason=reason, requested_by=requested_by
        )
    except NothingToRefund:
        logger.info("order %s: already refunded in full by a manager", order_id)
        return None


def payment_refund(*, refund_id: int, provider: PaymentProvider | None = None) -> Refund:
    """Refund at the provider, once; on success tell the order (`order_mark_refunded`:
    its `order.refunded` event, and the order refunded once its refunds reach the
    total), in the same transaction as the refund's record.

    Final refunds are returned unchanged. Raises NotFound, Unavailable (attempt
    recorded, refund stays `requested`) or ProviderRejected.
    """
    with transaction.atomic():
        refund = refund_locked(refund_id=refund_id)
        if refund.status != PaymentStatus.REQUESTED:
            return refund
        error = refund_attempt(refund, provider=provider)
        if refund.status == PaymentStatus.SUCCEEDED:
            order_mark_refunded(
                order_id=refund.order_id,
                refund_reference=refund.provider_reference,
                amount=refund.amount,
                reason=refund.reason,
            )
    if error is not None:
        logger.warning("refund %s: attempt %d failed: %s", refund_id, refund.attempts, error)
        raise error
    return refund
