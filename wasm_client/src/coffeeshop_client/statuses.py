"""Order statuses: what to call them, how far along they are, what staff do next."""

from __future__ import annotations

LABELS = {
    "pending_payment": "Waiting for payment",
    "placed": "Order received",
    "in_preparation": "Being made",
    "ready": "Ready to collect",
    "collected": "Collected",
    "payment_failed": "Payment declined",
    "cancelled": "Cancelled",
}
# The happy path a customer sees as a progress bar.
STEPS = ("placed", "in_preparation", "ready", "collected")
# What a barista's one tap does from each status (DESIGN.md: only legal transitions).
NEXT_STEP = {
    "placed": ("in_preparation", "Start making"),
    "in_preparation": ("ready", "Mark ready"),
    "ready": ("collected", "Hand over"),
}
FINAL = frozenset({"collected", "payment_failed", "cancelled"})
CANCELLABLE = frozenset({"pending_payment", "placed"})
QUEUE_COLUMNS = (
    ("placed", "New"),
    ("in_preparation", "In preparation"),
    ("ready", "Ready"),
)


def label(status: str) -> str:
    return LABELS.get(status, status.replace("_", " ").capitalize())


def tone(status: str) -> str:
    """A CSS modifier: `good`, `bad`, `busy` or `done`."""
    if status in ("payment_failed", "cancelled"):
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
    return f"Order {order_number}: {label(status)}."


def short_id(order_id: str) -> str:
    """What a customer says at the counter: the last 4 characters, upper case."""
    text = str(order_id).replace("-", "")
    return text[-4:].upper() if len(text) > 4 else text.upper()
