"""Writes of payments: requesting charges and refunds, and carrying them out at the provider.

This app knows the provider and its own rows, never the order they are for:
`order_site.order_payments` runs each step below together with the order's side
(`payment_charge`: lock the payment, check the order, `payment_attempt`, mark the
order paid or failed, in one transaction) and queues the tasks.

`order_place` writes the payment (`payment_new`) with the order, in one statement;
once committed, Order's relay process claims it (`payments_undispatched_claim`) and
queues its charge. A charge that runs twice, runs concurrently with a duplicate, or is
re-delivered after its worker died finds the payment final and does nothing, or
repeats the provider call with the same idempotency key, which the provider answers
from its idempotency record: one charge per order.

Card data never reaches us (docs/decisions.md "Card data"): the browser exchanges
the card for the provider's token (`pm_…`), the payment keeps that token, and the
brand and last four digits come back with the provider's answer to the charge.

A payment whose outcome is unknown (timeout, 5xx, circuit open) stays `requested`
and the task retries; it is never marked failed on a guess, because the provider
may have charged the card.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from order_site.payments.models import Payment, PaymentStatus, Refund
from order_site.payments.providers import PaymentProvider, ProviderRejected, payment_provider
from shared import telemetry
from shared.problems import Conflict, DomainError, InvalidInput, NotFound, Unavailable

logger = logging.getLogger("coffeeshop.payments")

# A provider payment-method token (Stripe's shape); there is no default: a placement
# without one is refused (issue 10).
PAYMENT_TOKEN = re.compile(r"^pm_[A-Za-z0-9_]{1,60}\Z")
CARD_LAST4 = re.compile(r"^[0-9]{4}$")
PAYMENT_TOKEN_HELP = "A payment-method token (pm_…) from the payment provider, not a card number."  # noqa: S105


def charge_key(order_id: int) -> str:
    return f"order-{order_id}-charge"


def refund_key(order_id: int) -> str:
    return f"order-{order_id}-refund"


def payment_new(
    *,
    order_id: int,
    amount: int,
    currency: str,
    payment_method: str,
) -> Payment:
    """The charge of an order, checked but not yet written: for a caller that writes it
    together with the order (`order_place`). Once written, `payments_dispatch` queues it.

    `payment_method` is the provider's token for the card the customer gave at
    checkout (`pm_…`). Raises InvalidInput for a non-positive amount, a malformed
    currency, or a payment method that is not a token (never echoing what was sent:
    it may be a card number).
    """
    if amount < 1:
        raise InvalidInput(
            "The amount must be a positive integer.", errors={"amount": ["Must be at least 1."]}
        )
    if not PAYMENT_TOKEN.match(payment_method):
        raise InvalidInput(
            "The payment method must be a payment-method token from the payment provider.",
            errors={"payment_method": [PAYMENT_TOKEN_HELP]},
        )
    currency = currency.upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(
            "The currency must be an ISO 4217 code.", errors={"currency": ["Three letters."]}
        )
    return Payment(
        idempotency_key=charge_key(order_id),
        order_id=order_id,
        amount=amount,
        currency=currency,
        payment_token=payment_method,
        traceparent=telemetry.traceparent(),
    )


def payment_request(
    *,
    order_id: int,
    amount: int,
    currency: str,
    payment_method: str,
) -> Payment:
    """Record the charge of an order; `payments_dispatch` queues it once committed.

    Idempotent per order: asking again with the same amount and currency returns
    the existing payment. Raises InvalidInput as
    `payment_new`, Conflict when the order already has a payment for another amount
    or currency.
    """
    new = payment_new(
        order_id=order_id, amount=amount, currency=currency, payment_method=payment_method
    )
    # Insert first and let the unique key decide (no look-up before). No savepoint
    # around the whole: inside the caller's transaction only the insert needs one.
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                new.save(force_insert=True)
        except IntegrityError:
            found = Payment.objects.filter(idempotency_key=charge_key(order_id)).first()
            if found is None:
                raise  # another constraint than the key's
            existing = found
        else:
            return new
    if (existing.amount, existing.currency) != (new.amount, new.currency):
        raise Conflict(f"Order {order_id} already has a payment of another amount.")
    return existing


def payment_locked(*, payment_id: int) -> Payment:
    """The payment, its row locked until the caller's transaction ends: duplicate charge
    tasks are serialised by it (the second waits, then finds a final state). Raises
    NotFound."""
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"No payment {payment_id}.")
    return payment


def payment_cancel(payment: Payment) -> None:
    """A locked payment never to be charged (its order was cancelled or expired first):
    `cancelled`, the provider not asked."""
    payment.status = PaymentStatus.CANCELLED
    payment.completed_at = timezone.now()
    payment.save(update_fields=["status", "completed_at", "updated_at"])


def payment_attempt(
    payment: Payment, *, provider: PaymentProvider | None = None
) -> Unavailable | ProviderRejected | None:
    """Ask the provider for a locked, requested payment's charge and record the answer.

    On an answer the payment is final: `succeeded`, or `failed` with the provider's
    code and reason. When the provider can't be reached (Unavailable) or refuses the
    request (ProviderRejected) the attempt is recorded, the payment stays `requested`,
    and the error is returned, not raised, so the caller's transaction keeps the record:
    the caller raises it once committed.
    """
    payment.attempts += 1
    try:
        result = (provider or payment_provider()).charge(
            amount=payment.amount,
            currency=payment.currency,
            payment_method=payment.payment_token,
            idempotency_key=payment.idempotency_key,
            metadata={"order_id": str(payment.order_id), "payment_id": str(payment.id)},
        )
    except (Unavailable, ProviderRejected) as exc:
        payment.last_error = str(getattr(exc, "detail", exc))[:255]
        if isinstance(exc, Unavailable) and exc.extra.get("reason"):
            payment.last_error = f"{exc.detail}: {exc.extra['reason']}"[:255]
        payment.save(update_fields=["attempts", "last_error", "updated_at"])
        return exc
    payment.provider_reference = result.reference
    payment.card_brand = result.card_brand[:16]
    payment.card_last4 = result.card_last4 if CARD_LAST4.match(result.card_last4) else ""
    payment.completed_at = timezone.now()
    payment.last_error = ""
    if result.succeeded:
        payment.status = PaymentStatus.SUCCEEDED
    else:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = result.failure_code[:64]
        payment.failure_reason = result.failure_reason[:255]
    payment.save(
        update_fields=[
            "attempts",
            "provider_reference",
            "card_brand",
            "card_last4",
            "completed_at",
            "last_error",
            "status",
            "failure_code",
            "failure_reason",
            "updated_at",
        ]
    )
    return None


class RefundKeyReused(DomainError):
    """draft-ietf-httpapi-idempotency-key-header section 2.7: 422 for a key reused with
    a different request (as a placement's, `order_site.orders.services`)."""

    status, slug, title = 422, "idempotency-key-reused", "Idempotency key reused"


class NothingToRefund(Conflict):
    slug, title = "nothing-to-refund", "Nothing left to refund"


def caller_refund_key(*, order_id: int, requested_by: int | None, key: str) -> str:
    """The refund's own (and the provider's) idempotency key for a caller's
    Idempotency-Key: scoped to the order and the caller, hashed to a bounded length."""
    digest = hashlib.sha256(f"{requested_by}:{key}".encode()).hexdigest()[:40]
    return f"order-{order_id}-refund-{digest}"


def payment_refund_request(
    *,
    order_id: int,
    amount: int | None,
    reason: str = "",
    requested_by: int | None = None,
    key: str | None = None,
    fingerprint: str = "",
) -> tuple[Refund, bool]:
    """Record a refund of an order's successful charge; returns it and whether it is new
    (the caller queues a new one's task once committed: `order_payments.refunds`).

    `amount` None asks for whatever is left (the full refund of a cancel or reject).
    Without `key` the refund is the order's full refund, one per order (its key derives
    from the order): asking again returns it, Conflict if for another amount. With
    `key` (a caller's Idempotency-Key, see `caller_refund_key`) a part refund: asking
    again with the same `fingerprint` returns the same refund, another raises
    RefundKeyReused (422). The charge's row is locked, so refunds together never pass
    the charge (`Payment.refunded_amount`, bounded by a check too). Raises Conflict when
    the order has no successful charge, NothingToRefund (409) when all of it is
    refunded, InvalidInput naming `amount` when it is not in 1..what is left; nothing
    is written then.
    """
    stored_key = (
        refund_key(order_id)
        if key is None
        else caller_refund_key(order_id=order_id, requested_by=requested_by, key=key)
    )
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(order_id=order_id, status=PaymentStatus.SUCCEEDED)
            .first()
        )
        if payment is None:
            raise Conflict(f"Order {order_id} has no successful payment to refund.")
        existing = Refund.objects.filter(idempotency_key=stored_key).first()
        if existing is not None:
            if key is not None and existing.request_fingerprint != fingerprint:
                raise RefundKeyReused(
                    "This Idempotency-Key was used with a different request.",
                    errors={"Idempotency-Key": ["Already used with a different request body."]},
                )
            if key is None and amount is not None and existing.amount != amount:
                raise Conflict(f"Order {order_id} already has a refund of another amount.")
            return existing, False
        left = payment.amount - payment.refunded_amount
        if amount is None:
            amount = left
        if left < 1:
            raise NothingToRefund(
                f"Order {order_id} is already refunded in full.",
                errors={"amount": ["Nothing is left to refund."]},
            )
        if not 1 <= amount <= left:
            raise InvalidInput(
                f"The refund must be between 1 and {left}, what is left of the charge.",
                errors={"amount": [f"Must be between 1 and {left}."]},
            )
        refund = Refund.objects.create(
            idempotency_key=stored_key,
            payment=payment,
            order_id=order_id,
            amount=amount,
            reason=reason[:200],
            requested_by=requested_by,
            request_fingerprint=fingerprint if key is not None else "",
        )
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + amount)
    return refund, True


def refund_locked(*, refund_id: int) -> Refund:
    """The refund (with its payment), its row locked until the caller's transaction
    ends. Raises NotFound."""
    refund = (
        Refund.objects.select_for_update().select_related("payment").filter(pk=refund_id).first()
    )
    if refund is None:
        raise NotFound(f"No refund {refund_id}.")
    return refund


def refund_attempt(
    refund: Refund, *, provider: PaymentProvider | None = None
) -> Unavailable | ProviderRejected | None:
    """Ask the provider for a locked, requested refund and record the answer: `succeeded`
    with the provider's reference, or `failed` (its amount no longer counted against the
    charge, so it may be asked for again). When the provider can't be reached or refuses
    the request the attempt is recorded, the refund stays `requested` and the error is
    returned for the caller to raise once committed (as `payment_attempt`)."""
    refund.attempts += 1
    try:
        result = (provider or payment_provider()).refund(
            payment_reference=refund.payment.provider_reference,
            amount=refund.amount,
            idempotency_key=refund.idempotency_key,
            metadata={"order_id": str(refund.order_id), "refund_id": str(refund.id)},
        )
    except (Unavailable, ProviderRejected) as exc:
        refund.last_error = str(getattr(exc, "detail", exc))[:255]
        refund.save(update_fields=["attempts", "last_error", "updated_at"])
        return exc
    refund.completed_at = timezone.now()
    refund.last_error = ""
    if result.succeeded:
        refund.status = PaymentStatus.SUCCEEDED
        refund.provider_reference = result.reference
    else:
        refund.status = PaymentStatus.FAILED
        refund.failure_reason = result.failure_reason[:255]
        logger.error("refund %s refused by the provider: %s", refund.id, result)
        # Refused: its amount is not refunded, so it may be asked for again.
        Payment.objects.filter(pk=refund.payment_id).update(
            refunded_amount=F("refunded_amount") - refund.amount
        )
    refund.save()
    return None


DISPATCH_BATCH = 200


def payments_undispatched_claim(*, limit: int = DISPATCH_BATCH) -> dict[int, str]:
    """Inside the caller's transaction: requested payments whose charge is not queued yet,
    oldest first, at most `limit`, locked (others' rows skipped) and marked queued, as
    id → the `traceparent` of their placement. The caller publishes their tasks before
    it commits (`order_payments.dispatcher`); if the commit fails they stay unqueued."""
    ids = dict(
        Payment.objects.select_for_update(skip_locked=True)
        .filter(status=PaymentStatus.REQUESTED, queued_at__isnull=True)
        .order_by("id")
        .values_list("id", "traceparent")[:limit]
    )
    if ids:
        Payment.objects.filter(id__in=ids).update(queued_at=timezone.now())
    return ids


def payments_stale_release(*, older_than: timedelta) -> tuple[int, list[int]]:
    """Inside the caller's transaction: every charge and refund still `requested` and
    untouched for `older_than`. Charges go back to the dispatcher (`queued_at` cleared);
    the refunds' ids are returned for the caller to queue. Returns (charges released,
    refund ids)."""
    cutoff = timezone.now() - older_than
    payments = Payment.objects.filter(status=PaymentStatus.REQUESTED, updated_at__lt=cutoff).update(
        queued_at=None
    )
    refund_ids = list(
        Refund.objects.filter(status=PaymentStatus.REQUESTED, updated_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return payments, refund_ids
