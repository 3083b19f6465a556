"""Cancel, reject and a manager's refund: the order moves and its money is asked back,
in one transaction (the refund's task is queued once it commits: `refunds.py`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from order_site.order_payments.refunds import order_refund_in_full, refund_request
from order_site.orders.models import Order
from order_site.orders.services import (
    REASON_MAX,
    Forbidden,
    order_locked,
    order_mark_cancelled,
    order_mark_rejected,
    request_fingerprint,
)
from order_site.payments.models import Refund
from order_site.users.principals import Principal
from shared.problems import InvalidInput


@transaction.atomic
def order_cancel(*, order_id: int, actor: Principal, reason: str = "") -> Order:
    """Cancel an order (`order_mark_cancelled`: who may, when, and what it raises); a
    paid order's full refund is requested with it, once (the refund's key derives from
    the order)."""
    order, was_paid = order_mark_cancelled(order_id=order_id, actor=actor, reason=reason)
    if was_paid:
        order_refund_in_full(
            order_id=order.id, reason=reason or "cancelled", requested_by=actor.user_id
        )
    return order


@transaction.atomic
def order_reject(*, order_id: int, actor: Principal, reason: str) -> Order:
    """Reject a paid order (`order_mark_rejected`: who may, from where, and what it
    raises), saying why; its full refund is requested with it, once (the refund's key
    derives from the order), the reason kept on the refund."""
    reason = " ".join(reason.split())
    order = order_mark_rejected(order_id=order_id, actor=actor, reason=reason)
    order_refund_in_full(order_id=order.id, reason=reason, requested_by=actor.user_id)
    return order


@transaction.atomic
def order_refund(
    *,
    order_id: int,
    actor: Principal,
    amount: Any,
    reason: Any,
    idempotency_key: str,
) -> Refund:
    """A manager refunds all or part of a paid order, saying why; returns the Refund.

    Each request is idempotent by the caller's `idempotency_key`: a retry with the same
    key, amount and reason returns the same refund; the same key with another body
    raises RefundKeyReused (422). Refunds together never exceed the charge (the
    payment's row lock, and a database check). The provider is asked after commit;
    when it confirms, the order gets an `order.refunded` event with the amount (and is
    marked refunded once its refunds reach the total). Raises Forbidden (403) for
    anyone but a manager, InvalidInput (400) naming `amount` (not a whole number
    1..what is left) or `reason` (blank or over REASON_MAX), NotFound, Conflict (409)
    for an order never paid or already refunded in full; nothing is written then.
    """
    if not actor.is_manager:
        raise Forbidden("Only managers may refund orders.")
    errors: dict[str, list[str]] = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        errors["amount"] = ["A whole number of the smallest currency unit, at least 1."]
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not 1 <= len(text) <= REASON_MAX:
        errors["reason"] = [f"Say why the order is refunded: 1 to {REASON_MAX} characters."]
    if errors:
        raise InvalidInput("The refund cannot be made as asked.", errors=errors)
    # The order first, then its payment: the order in which cancel and reject lock them.
    order = order_locked(order_id=order_id)
    return refund_request(
        order_id=order.id,
        amount=amount,
        reason=text,
        requested_by=actor.user_id,
        key=idempotency_key,
        fingerprint=request_fingerprint({"amount": amount, "reason": text}),
    )
