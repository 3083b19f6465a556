"""Reads of payments."""

from __future__ import annotations

from order_site.payments.models import Payment, PaymentStatus, Refund


def payment_for_order(*, order_id: int) -> Payment | None:
    """The charge requested for an order, or None."""
    return Payment.objects.filter(order_id=order_id).first()


def refunds_for_order(*, order_id: int) -> list[Refund]:
    return list(Refund.objects.filter(order_id=order_id).order_by("created_at", "id"))


def refunded_total(*, order_id: int) -> int:
    """What the provider has confirmed refunding of an order so far (succeeded refunds)."""
    return sum(
        Refund.objects.filter(order_id=order_id, status=PaymentStatus.SUCCEEDED).values_list(
            "amount", flat=True
        )
    )
