"""Reads of the order domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from order_site.orders.models import QUEUE_STATUSES, Favourite, Order, OrderStatus
from order_site.payments.models import Payment, PaymentStatus, Refund
from order_site.users.models import Customer
from order_site.users.principals import Principal
from shared.problems import InvalidInput, NotFound


def _with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related("lines", "status_changes")


def order_list_for_customer(*, customer_id: int) -> QuerySet[Order]:
    """The customer's own orders, newest first."""
    return _with_lines(Order.objects.filter(customer_id=customer_id)).order_by("-created_at", "-id")


def favourite_list_for_customer(*, customer_id: int) -> QuerySet[Favourite]:
    """The customer's own favourites, oldest first (the order they were saved in)."""
    return Favourite.objects.filter(customer_id=customer_id).order_by("created_at", "id")


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


# ---- a manager's look-up (issue 11) -------------------------------------------------------


@dataclass(frozen=True)
class OrderFinding:
    """An order with what a manager sees beside it: its payment (None: never charged),
    its refunds (oldest first) and the people named (customer, actors, refunders)."""

    order: Order
    payment: Any
    refunds: list[Any]
    people: dict[int, Any]


@dataclass(frozen=True)
class SearchPage:
    results: list[OrderFinding]
    next_cursor: str | None


def _findings(orders: list[Order]) -> list[OrderFinding]:
    """Payments, refunds and people of many orders in three queries, not three per order."""
    ids = [order.id for order in orders]
    payments: dict[int, Payment] = {}
    # The successful charge wins over an earlier failed or cancelled one.
    for payment in Payment.objects.filter(order_id__in=ids).order_by("id"):
        held = payments.get(payment.order_id)
        if held is None or held.status != PaymentStatus.SUCCEEDED:
            payments[payment.order_id] = payment
    refunds: dict[int, list[Refund]] = {}
    for refund in Refund.objects.filter(order_id__in=ids).order_by("created_at", "id"):
        refunds.setdefault(refund.order_id, []).append(refund)
    person_ids = {order.customer_id for order in orders}
    person_ids |= {
        change.actor_id
        for order in orders
        for change in order.status_changes.all()
        if change.actor_id is not None
    }
    person_ids |= {r.requested_by for rs in refunds.values() for r in rs if r.requested_by}
    people = {c.id: c for c in Customer.objects.filter(id__in=person_ids)}
    return [
        OrderFinding(order, payments.get(order.id), refunds.get(order.id, []), people)
        for order in orders
    ]


def shop_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The shop's day as [start, end) instants: midnight to midnight in the site's time
    zone, the day a pickup number is given for (`timezone.localdate`)."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def orders_search(
    *,
    number: str = "",
    email: str = "",
    day: date | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> SearchPage:
    """Orders for a manager, newest first, by any of: pickup number (exact, any day
    unless `day` is given), customer e-mail (exact, case-insensitive, through Order's
    copy of users), the shop day it was placed. Keyset pages on (created_at, id): pass a
    page's `next_cursor` back as `after` (`queue_cursor_parse`)."""
    orders = Order.objects.all()
    if number:
        orders = orders.filter(number=number.strip().upper())
    if email:
        customers = Customer.objects.filter(email__iexact=email.strip()).values("id")
        orders = orders.filter(customer_id__in=customers)
    if day is not None:
        start, end = shop_day_bounds(day)
        orders = orders.filter(created_at__gte=start, created_at__lt=end)
    if after is not None:
        at, pk = after
        orders = orders.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    page = list(_with_lines(orders.order_by("-created_at", "-id"))[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return SearchPage(_findings(page), queue_cursor(page[-1]) if more else None)


def order_finding(*, order_id: int) -> OrderFinding:
    """One order as a manager sees it; NotFound when there is none."""
    order = _with_lines(Order.objects.filter(id=order_id)).first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return _findings([order])[0]
