"""Our record of every charge and refund asked of the payment provider.

`order_id` is a plain integer, not a foreign key: payments are written in the
order's transaction but stay decoupled from the order model (the provider's
metadata carries the same id). One charge per order, its idempotency key derived from
the order id; refunds of it may be several (a manager's part refunds), their amounts
together never more than the charge: `Payment.refunded_amount` holds their sum, bounded
by a check, and every refund request locks the payment. The idempotency keys are unique
here and at the provider.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class PaymentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # The order was cancelled before the charge ran: the provider was never asked.
    CANCELLED = "cancelled", "Cancelled"


class Payment(models.Model):
    order_id = models.BigIntegerField(db_index=True)
    amount = models.PositiveIntegerField()  # smallest currency unit
    currency = models.CharField(max_length=3)
    # The provider's payment-method token (`pm_…`) the browser got for the card at
    # checkout (docs/decisions.md "Card data"): never a card number, which a constraint
    # below holds. Brand and last four come from the provider's answer to the charge.
    payment_token = models.CharField(max_length=64)
    card_brand = models.CharField(max_length=16, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.REQUESTED
    )
    # Unique by a constraint in Meta rather than `unique=True`, which on PostgreSQL also
    # builds a `LIKE` index no query uses: one more index write on every placement.
    idempotency_key = models.CharField(max_length=255)
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    # Charge attempts: task runs that tried the provider (an open breaker counts too).
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True, default="")
    # The sum of this charge's refunds not refused by the provider (requested or
    # succeeded), kept with each refund request under the payment's row lock.
    refunded_amount = models.PositiveIntegerField(default=0)
    # When the dispatcher handed the charge to Celery (None: not yet). A requested
    # payment is itself the durable request for its task (`payments_dispatch`).
    queued_at = models.DateTimeField(null=True, blank=True)
    # The W3C `traceparent` of the placement ("" when untraced): its charge is traced
    # as part of the order's trace (order_payments.charges).
    traceparent = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status="requested", queued_at__isnull=True),
                name="payments_payment_unqueued",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="payments_payment_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payments_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payments_payment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payments_payment_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(payment_token__regex=r"^pm_[A-Za-z0-9_]+$"),  # noqa: S106 - a pattern
                name="payments_payment_token_is_a_token",
            ),
            models.CheckConstraint(
                condition=Q(card_last4__regex=r"^([0-9]{4})?$"),
                name="payments_payment_card_last4_digits",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.SUCCEEDED) | ~Q(provider_reference=""),
                name="payments_payment_succeeded_has_reference",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("amount")),
                name="payments_payment_refunds_within_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.id} of order {self.order_id} ({self.status})"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order_id = models.BigIntegerField(db_index=True)
    amount = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.REQUESTED
    )
    idempotency_key = models.CharField(max_length=255, unique=True)
    # Why, and who asked (Identity's user id; None: the system). A full refund after a
    # cancel or reject carries that reason too.
    reason = models.CharField(max_length=200, blank=True, default="")
    requested_by = models.BigIntegerField(null=True, blank=True)
    # For a caller's own Idempotency-Key: the SHA-256 of what was asked, so a retry
    # with the same key and another body is refused ("" for the order's full refund).
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payments_refund_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.SUCCEEDED) | ~Q(provider_reference=""),
                name="payments_refund_succeeded_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.id} of order {self.order_id} ({self.status})"
