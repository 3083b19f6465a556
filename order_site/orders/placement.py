"""Write a new order in one round trip: the placement's fast path, behind one seam.

A placement writes only new rows: the order, its lines (each with the options chosen),
its first status change, its `order.placed` event and its charge. `placement_write`
sends them to PostgreSQL as one statement (`shared.db`: keys taken ahead from a
per-process block, one multi-row INSERT per table chained as data-modifying CTEs),
where the ORM would pay BEGIN, five INSERTs and COMMIT (figures: docs/decisions.md,
"Order's hot paths"). `placement_write_plain` writes the same rows through the ORM, one
model at a time: it is what the fast path is held to, row for row
(tests/order/orders/test_placement_write.py), and the way back should the fast path
stop earning its speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.db import transaction

from order_site.orders.events import order_event_new
from order_site.orders.models import Order, OrderLine, OrderStatusChange
from order_site.outbox.models import OutboxEvent
from order_site.payments.models import Payment
from order_site.payments.services import payment_new
from shared.db import KeyBlocks, rows_insert_together, rows_stamp

Render = Callable[[Order], dict[str, Any]]

# Keys of the rows a placement writes, reserved a block at a time: a placement is then
# one statement, with a key round trip once per 64 orders.
_keys = KeyBlocks(block=64)


class PlacementWriter(Protocol):
    def __call__(
        self, order: Order, lines: list[OrderLine], *, payment_method: str, render: Render
    ) -> dict[str, Any]: ...


def _companions(
    order: Order, lines: list[OrderLine], payment_method: str
) -> tuple[OrderStatusChange, OutboxEvent, Payment]:
    """The rows written with a new order once its key is known: its first status
    change, its `order.placed` event and its charge (raises InvalidInput for a
    `payment_method` that is not a provider token)."""
    for line in lines:
        line.order = order
    change = OrderStatusChange(
        order=order, from_status="", to_status=order.status, actor_id=order.customer_id
    )
    event = order_event_new(order, "order.placed", lines=len(lines))
    payment = payment_new(
        order_id=order.id,
        amount=order.total,
        currency=order.currency,
        payment_method=payment_method,
    )
    return change, event, payment


def _rendered(
    order: Order, lines: list[OrderLine], change: OrderStatusChange, render: Render
) -> Any:
    """The answer to the placement, from the rows in hand instead of read back."""
    order._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "lines": lines,
        "status_changes": [change],
    }
    return render(order)


def placement_write(
    order: Order, lines: list[OrderLine], *, payment_method: str, render: Render
) -> dict[str, Any]:
    """Write the new `order` (unsaved, no key) with its `lines`, first status change,
    `order.placed` event and charge in one statement, and return the answer rendered
    from them, which is stored with the order (`response_body`) for replay.

    All or none: raises IntegrityError when a constraint refuses a row (another
    placement holds the order's idempotency key), InvalidInput for a bad payment method.
    """
    keys = _keys.take({Order: 1, OrderLine: len(lines), Payment: 1})
    (order.id,) = keys[Order]
    for line, line_id in zip(lines, keys[OrderLine], strict=True):
        line.id = line_id
    change, event, payment = _companions(order, lines, payment_method)
    (payment.id,) = keys[Payment]
    rows_stamp([order, change])  # the answer shows the times the rows are written with
    order.response_body = body = _rendered(order, lines, change, render)
    rows_insert_together([order, *lines, change, event, payment])
    return body


def placement_write_plain(
    order: Order, lines: list[OrderLine], *, payment_method: str, render: Render
) -> dict[str, Any]:
    """What `placement_write` does, through the ORM: one INSERT per model in a transaction,
    keys from the database, and the answer stored with a last UPDATE."""
    with transaction.atomic():
        order.response_body = {}
        order.save(force_insert=True)
        change, event, payment = _companions(order, lines, payment_method)
        OrderLine.objects.bulk_create(lines)
        change.save(force_insert=True)
        event.save(force_insert=True)
        payment.save(force_insert=True)
        order.response_body = body = _rendered(order, lines, change, render)
        order.save(update_fields=["response_body"])
    return body
