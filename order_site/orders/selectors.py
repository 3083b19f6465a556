"""Reads of the order domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from order_site.orders.models import QUEUE_STATUSES, Order, OrderStatus
from order_site.users.principals import Principal
from shared.problems import InvalidInput, NotFound


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


@dataclass(frozen=True)
class QueuePage:
    """One queue column: how many orders it holds, a page of them oldest first, the
    cursor of the next page (None: this was the last), and its newest arrivals."""

    status: str
    count: int
    orders: list[Order]
    next_cursor: str | None
    newest: list[Order]


def queue_cursor(order: Order) -> str:
    """The keyset position after `order`: its (created_at, id), opaque to clients."""
    return f"{order.created_at.isoformat()}~{order.id}"


def queue_cursor_parse(cursor: str) -> tuple[datetime, int]:
    """(created_at, id) of a cursor `queue_cursor` made. Raises InvalidInput otherwise."""
    stamp, _, order_id = cursor.rpartition("~")
    try:
        at, pk = datetime.fromisoformat(stamp), int(order_id)
    except ValueError:
        at, pk = None, 0
    if at is None or at.tzinfo is None or not 1 <= pk < 2**63:  # an id is a bigint
        raise InvalidInput("Not a cursor this queue gave.", errors={"cursor": ["invalid"]})
    return at, pk


def order_queue_counts() -> dict[str, int]:
    """How many orders each queue column holds (every column named, 0 when empty)."""
    counts = dict.fromkeys((str(s) for s in QUEUE_STATUSES), 0)
    rows = (
        Order.objects.filter(status__in=QUEUE_STATUSES)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    counts.update({str(status): n for status, n in rows})
    return counts


def order_queue_page(
    *, status: str, after: tuple[datetime, int] | None, limit: int, newest: int, count: int
) -> QueuePage:
    """A page of one column, oldest first (keyset on (created_at, id), served by the
    `orders_queue_by_status` index however long the queue), and its `newest` latest
    arrivals, newest first, so a new order is in the answer whatever the backlog."""
    column = Order.objects.filter(status=status)
    page = column.order_by("created_at", "id")
    if after is not None:
        at, pk = after
        page = page.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))
    orders = list(_with_lines(page)[: limit + 1])
    more = len(orders) > limit
    orders = orders[:limit]
    latest = list(_with_lines(column.order_by("-created_at", "-id"))[:newest]) if newest else []
    return QueuePage(
        status=status,
        count=count,
        orders=orders,
        next_cursor=queue_cursor(orders[-1]) if more else None,
        newest=latest,
    )


def order_cancellable_until(order: Order) -> datetime | None:
    """Until when the customer may cancel a paid order themselves (and be refunded):
    `ORDER_CANCEL_WINDOW_SECONDS` after paying while it is `placed`; None when that
    does not apply (not paid, or a barista started it). An unpaid order can be
    cancelled at any time before its charge."""
    if order.status != OrderStatus.PLACED or order.paid_at is None:
        return None
    return order.paid_at + timedelta(seconds=settings.ORDER_CANCEL_WINDOW_SECONDS)
