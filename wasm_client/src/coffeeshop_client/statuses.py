"""Order statuses: what to call them, how far along they are, what staff do next."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coffeeshop_client.models import Order

LABELS = {
    "pending_payment": "Waiting for payment",
    "placed": "Order received",
    "in_preparation": "Being made",
    "ready": "Ready to collect",
    "collected": "Collected",
    "payment_failed": "Payment declined",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
    "not_collected": "Not collected",
    "expired": "Expired (not paid)",
}
# The happy path a customer sees as a progress bar.
STEPS = ("placed", "in_preparation", "ready", "collected")
# What a barista's one tap does from each status (DESIGN.md: only legal transitions).
NEXT_STEP = {
    "placed": ("in_preparation", "Start making"),
    "in_preparation": ("ready", "Mark ready"),
    "ready": ("collected", "Hand over"),
}
FINAL = frozenset(
    {"collected", "payment_failed", "cancelled", "rejected", "not_collected", "expired"}
)
# Where a barista may still turn an order down (with a reason; it is refunded in full).
REJECTABLE = frozenset({"placed", "in_preparation"})
REJECT_REASON_MAX = 200
CANCELLABLE = frozenset({"pending_payment", "placed"})
# Statuses where cancelling is a matter for the counter, once the window has gone.
ASK_AT_COUNTER = frozenset({"placed", "in_preparation", "ready"})
QUEUE_COLUMNS = (
    ("placed", "New"),
    ("in_preparation", "In preparation"),
    ("ready", "Ready"),
)


def label(status: str) -> str:
    return LABELS.get(status, status.replace("_", " ").capitalize())


def tone(status: str) -> str:
    """A CSS modifier: `good`, `bad`, `busy` or `done`."""
    if status in ("payment_failed", "cancelled", "rejected", "expired", "not_collected"):
        return "bad"
    if status == "ready":
        return "good"
    if status == "collected":
        return "done"
    return "busy"


def step_index(status: str) -> int:
    """0..3 on the happy path, -1 before it (pending payment) or off it."""
    return STEPS.index(status) if status in STEPS else -1


def is_live(status: str) -> bool:
    """Still worth tracking: not collected, cancelled or failed."""
    return status not in FINAL


def announcement(order_number: str, status: str, failure_reason: str | None = None) -> str:
    """The sentence the aria-live region reads out when an order changes."""
    if status == "ready":
        return f"Order {order_number} is ready to collect."
    if status == "payment_failed":
        reason = f": {failure_reason}" if failure_reason else "."
        return f"Payment for order {order_number} was declined{reason}"
    if status == "rejected":
        why = f": {failure_reason}" if failure_reason else "."
        return f"Order {order_number} was rejected and refunded{why}"
    return f"Order {order_number}: {label(status)}."


def short_id(order_id: str) -> str:
    """What a customer says at the counter: the last 4 characters, upper case."""
    text = str(order_id).replace("-", "")
    return text[-4:].upper() if len(text) > 4 else text.upper()


def _epoch(iso: str) -> float | None:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def seconds_left(order: Order | None, now: float) -> float | None:
    """Seconds the customer has left to cancel this paid order, or None when its
    cancel window does not apply or has passed."""
    if order is None or order.status != "placed" or not order.cancellable_until:
        return None
    until = _epoch(order.cancellable_until)
    if until is None or until <= now:
        return None
    return until - now


def can_cancel(order: Order, now: float) -> bool:
    """Whether Cancel will work: before the charge, or within the paid order's window."""
    return order.status == "pending_payment" or seconds_left(order, now) is not None


def time_left(seconds: float) -> str:
    """`1:05` for 65 s (rounded up: never shows 0:00 while it still works)."""
    whole = int(-(-seconds // 1))
    return f"{whole // 60}:{whole % 60:02d}"
