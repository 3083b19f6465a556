"""The order's events: what `coffeeshop.order-events` says of an order, built in one place
for the placement (`placement.py`) and the transitions (`services.py`)."""

from __future__ import annotations

from typing import Any

from order_site.orders.models import Order
from order_site.outbox.models import OutboxEvent
from order_site.outbox.services import outbox_event_new
from shared.events import ORDER_EVENTS_TOPIC


def order_event_payload(order: Order, extra: dict[str, Any]) -> dict[str, Any]:
    """The order as every one of its events carries it, plus the event's own fields."""
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "status": order.status,
        "total": order.total,
        "currency": order.currency,
        **extra,
    }


def order_event_new(order: Order, event_type: str, **extra: Any) -> OutboxEvent:
    """The order's event, not yet written: its caller writes it with the change it tells of."""
    return outbox_event_new(
        topic=ORDER_EVENTS_TOPIC,
        key=str(order.id),
        event_type=event_type,
        payload=order_event_payload(order, extra),
    )
