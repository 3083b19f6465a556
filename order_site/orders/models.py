"""Orders, their lines (a snapshot of what was bought at what price) and their history."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from shared.pricing import MAX_QUANTITY, MIN_QUANTITY


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PLACED = "placed", "Placed"
    IN_PREPARATION = "in_preparation", "In preparation"
    READY = "ready", "Ready"
    COLLECTED = "collected", "Collected"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    CANCELLED = "cancelled", "Cancelled"
    # A barista or manager turned a paid order down (with a reason); refunded in full.
    REJECTED = "rejected", "Rejected"
    # Ready but not collected within ORDER_NOT_COLLECTED_AFTER_MINUTES (the sweep).
    NOT_COLLECTED = "not_collected", "Not collected"
    # Never paid within ORDER_PAYMENT_EXPIRES_AFTER_MINUTES (the sweep); never charged.
    EXPIRED = "expired", "Expired"


# DESIGN.md "Orders": the only legal transitions.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset(
        {
            OrderStatus.PLACED,
            OrderStatus.PAYMENT_FAILED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.PLACED: frozenset(
        {OrderStatus.IN_PREPARATION, OrderStatus.CANCELLED, OrderStatus.REJECTED}
    ),
    # Rejecting mid-preparation is allowed: the oat milk can run out with the cup half made.
    OrderStatus.IN_PREPARATION: frozenset({OrderStatus.READY, OrderStatus.REJECTED}),
    OrderStatus.READY: frozenset({OrderStatus.COLLECTED, OrderStatus.NOT_COLLECTED}),
    OrderStatus.COLLECTED: frozenset(),
    OrderStatus.PAYMENT_FAILED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.NOT_COLLECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}
QUEUE_STATUSES = (OrderStatus.PLACED, OrderStatus.IN_PREPARATION, OrderStatus.READY)
CUP_NAME_MAX = 20  # what fits on a cup
NOTE_MAX = 140  # a line for the barista, not a letter
FAVOURITE_NAME_MAX = 40
FAVOURITES_MAX = 20  # per customer: a handful of usuals, not a second menu


class Order(models.Model):
    # Identity's user id. No index of its own: `orders_one_order_per_key` leads with it,
    # and a second index would be one more write on every placement.
    customer_id = models.BigIntegerField()
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    total = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Idempotent placement (DESIGN.md): the key, a fingerprint of the request, and the
    # answer given, replayed verbatim for a retry with the same key and body.
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    payment_reference = models.CharField(max_length=255, blank=True, default="")
    # When the payment was captured: the customer's cancel window runs from here.
    paid_at = models.DateTimeField(null=True, blank=True)
    refund_reference = models.CharField(max_length=255, blank=True, default="")
    refunded_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    # The pickup number people say and see ("A-042"), unique for its day; given when the
    # order is paid (orders/numbers.py), so "" until then.
    number = models.CharField(max_length=8, blank=True, default="")
    number_day = models.DateField(null=True, blank=True)
    # Written on the cup and told to the barista (issue 17); checked by the placement's
    # serializer (CUP_NAME_MAX, NOTE_MAX, no control characters), "" when not given.
    cup_name = models.CharField(max_length=CUP_NAME_MAX, blank=True, default="")
    note = models.CharField(max_length=NOTE_MAX, blank=True, default="")

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "idempotency_key"], name="orders_one_order_per_key"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="orders_order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="orders_order_currency_iso"
            ),
            models.UniqueConstraint(
                fields=["number_day", "number"],
                condition=Q(number_day__isnull=False),
                name="orders_one_number_per_day",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                condition=Q(status__in=QUEUE_STATUSES),
                name="orders_queue",
            ),
            # The unpaid-order sweep (orders_unpaid_expire): a handful of rows, never a
            # scan of the whole table once a minute.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending_payment"),
                name="orders_pending_payment",
            ),
            # The manager's day report (order_site/reports): a day's paid orders are a
            # range of `paid_at`; without this every report reads the whole history.
            # Partial: unpaid orders never have one, and a report never asks for them.
            models.Index(
                fields=["paid_at"], condition=Q(paid_at__isnull=False), name="orders_paid_at"
            ),
            # A manager's look-up by pickup number, any day, newest first.
            models.Index(
                fields=["number", "created_at"],
                condition=Q(number_day__isnull=False),
                name="orders_by_number",
            ),
            # One queue column's page and count (status, then keyset order).
            models.Index(
                fields=["status", "created_at", "id"],
                condition=Q(status__in=QUEUE_STATUSES),
                name="orders_queue_by_status",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.id} ({self.status})"


class PickupCounter(models.Model):
    """The last pickup number given on a day: one row per day, bumped in one UPSERT."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "menu.Product", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    product_name = models.CharField(max_length=120)
    variation = models.ForeignKey(
        "menu.Variation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    variation_name = models.CharField(max_length=80, blank=True, default="")
    base_price = models.PositiveIntegerField()
    variation_delta = models.IntegerField(default=0)
    # [{"id", "group", "name", "price_delta"}] as priced when the order was placed.
    options = models.JSONField(default=list, blank=True)
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.PositiveIntegerField()
    line_total = models.PositiveIntegerField()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=MIN_QUANTITY, quantity__lte=MAX_QUANTITY),
                name="orders_line_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")),
                name="orders_line_total_is_unit_times_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"


class OrderStatusChange(models.Model):
    """One transition: from where, to where, who did it and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)  # None: the system (payments)
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '∅'} → {self.to_status}"


class Favourite(models.Model):
    """A customer's saved drink ("my usual"): a product as they customise it, by ids.

    Checked against the menu when saved (the choices must exist and fit the product's
    groups); a choice sold out since is flagged by the client, never silently changed.
    """

    customer_id = models.BigIntegerField()
    name = models.CharField(max_length=FAVOURITE_NAME_MAX, blank=True, default="")
    product = models.ForeignKey("menu.Product", on_delete=models.CASCADE, related_name="+")
    variation = models.ForeignKey(
        "menu.Variation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The option ids, sorted and without repeats, so one drink is one favourite.
    option_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "product", "variation", "option_ids"],
                nulls_distinct=False,
                name="orders_one_favourite_per_drink",
            ),
        ]
        indexes = [models.Index(fields=["customer_id", "created_at"], name="orders_favourites")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.name or self.product_id}"
