"""Reads of the order domain."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from order_site.orders.models import QUEUE_STATUSES, Order, OrderStatus
from order_site.users.principals import Principal
from shared.problems import NotFound


def _with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related("lines", "status_changes")


def order_list_for_customer(*, customer_id: int) -> QuerySet[Order]:
    """The customer's own orders, newest first."""
    return _with_lines(Order.objects.filter(customer_id=customer_id)).order_by("-created_at", "-id")


def order_summary_for_customer(*, customer_id: int) -> tuple[int, Order | None]:
    """How many orders the customer has placed, and their newest (None: never ordered)."""
    orders = Order.objects.filter(customer_id=customer_id)
    count = orders.count()
    newest = order_list_for_customer(customer_id=customer_id).first() if count else None
    return count, newest


def order_get(*, order_id: int, viewer: Principal) -> Order:
    """One order its customer or staff may see; NotFound for anyone else's (so its
    existence is not revealed)."""
    order = _with_lines(Order.objects.filter(id=order_id)).first()
    if order is None or (order.customer_id != viewer.user_id and not viewer.is_staff_member):
        raise NotFound(f"No order {order_id}.")
    return order


def order_queue() -> QuerySet[Order]:
    """The barista queue: placed, in preparation and ready orders, oldest first."""
    return _with_lines(Order.objects.filter(status__in=QUEUE_STATUSES)).order_by("created_at", "id")


def order_cancellable_until(order: Order) -> datetime | None:
    """Until when the customer may cancel a paid order themselves (and be refunded):
    `ORDER_CANCEL_WINDOW_SECONDS` after paying while it is `placed`; None when that
    does not apply (not paid, or a barista started it). An unpaid order can be
    cancelled at any time before its charge."""
    if order.status != OrderStatus.PLACED or order.paid_at is None:
        return None
    return order.paid_at + timedelta(seconds=settings.ORDER_CANCEL_WINDOW_SECONDS)
