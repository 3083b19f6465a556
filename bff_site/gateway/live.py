"""Live order status for browsers: Order's Kafka events → Redis Streams → server-sent events.

One consumer process (`manage.py run_live_updates`) reads `coffeeshop.order-events`
and appends a small status message to a bounded Redis Stream per customer
(`live:stream:user:<id>`) and one for staff (`live:stream:staff`); the entry's stream
id is the event's id in the browser's stream. A note on the `live:bus` channel wakes
the BFF's streams at once (`bff_site/gateway/streams.py`); the Stream is what a
reconnecting browser replays from (`Last-Event-ID`).

Order's `menu.changed` (same topic) drops the BFF's cached menu and sends every open
stream an `event: menu` without an id (`menu_publish`), so open menus refetch.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from bff_site.gateway import selectors
from shared.events import Envelope

logger = logging.getLogger("coffeeshop.bff.live")

STATUS_BY_EVENT = {
    "order.placed": None,  # the payload's status says which
    "order.paid": "placed",
    "order.payment_failed": "payment_failed",
    "order.cancelled": "cancelled",
    "order.refunded": None,
    "order.status_changed": None,
}


def user_stream(user_id: str) -> str:
    """The Redis Stream of one customer's order events."""
    return f"live:stream:user:{user_id}"


STAFF_STREAM = "live:stream:staff"  # every order's events, for baristas and managers
BUS_CHANNEL = "live:bus"  # pub/sub wake-up: {"stream", "id", "data"} per appended entry


def message_for(envelope: Envelope) -> tuple[str | None, dict[str, Any]] | None:
    """(customer id, browser message) for an order event, or None when it isn't one."""
    if envelope.event_type not in STATUS_BY_EVENT:
        return None
    payload = envelope.payload
    order_id = payload.get("order_id") or payload.get("id")
    status = (
        payload.get("status")
        or payload.get("to")
        or payload.get("to_status")
        or STATUS_BY_EVENT[envelope.event_type]
    )
    customer = payload.get("customer_id") or payload.get("user_id")
    message = {
        "order_id": order_id,
        "status": status,
        "event": envelope.event_type,
        "at": envelope.occurred_at,
    }
    if payload.get("reason") or payload.get("failure_reason"):
        message["reason"] = payload.get("reason") or payload.get("failure_reason")
    return (str(customer) if customer is not None else None), message


def publish(envelope: Envelope) -> bool:
    """Append one event to its customer's stream and the staff stream, once
    (deduplicated by event_id in Redis), and wake the streams listening.

    Each stream keeps about `LIVE_STREAM_MAXLEN` entries and vanishes after
    `LIVE_STREAM_TTL_SECONDS` without a new one: a browser whose last event id has
    been trimmed away is told to refetch instead (`streams.py`, `resync`).
    """
    found = message_for(envelope)
    if found is None:
        return False
    redis = get_redis_connection("default")
    if not redis.set(f"live:seen:{envelope.event_id}", 1, nx=True, ex=3600):
        return False
    customer, message = found
    data = json.dumps(message)
    keys = ([user_stream(customer)] if customer else []) + [STAFF_STREAM]
    pipe = redis.pipeline(transaction=True)
    for key in keys:
        pipe.xadd(
            key,
            {"kind": "order", "data": data},
            maxlen=settings.LIVE_STREAM_MAXLEN,
            approximate=True,
        )
        pipe.expire(key, settings.LIVE_STREAM_TTL_SECONDS)
    ids = pipe.execute()[::2]
    # The entries are stored before the wake-up: a stream that misses the note finds
    # them when it replays, and one that gets both skips the repeat by id.
    pipe = redis.pipeline(transaction=False)
    for key, entry_id in zip(keys, ids, strict=True):
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        pipe.publish(BUS_CHANNEL, json.dumps({"stream": key, "id": entry, "data": data}))
    pipe.execute()
    return True


MENU_EVENT = "menu.changed"


def menu_publish(envelope: Envelope) -> bool:
    """Order's `menu.changed`: drop the cached menu, then tell every open stream of every
    BFF process (a `menu` note on the bus, which each Hub hands to all its streams) so
    open menus fetch it again. Once per event id. A browser that was reconnecting at that
    moment misses the note; its menu is refetched when it next opens the menu page.
    """
    redis = get_redis_connection("default")
    if not redis.set(f"live:seen:{envelope.event_id}", 1, nx=True, ex=3600):
        return False
    selectors.menu_invalidate()
    payload = envelope.payload
    data = json.dumps(
        {
            "event": MENU_EVENT,
            "item": payload.get("item"),
            "id": payload.get("id"),
            "at": envelope.occurred_at,
        }
    )
    redis.publish(BUS_CHANNEL, json.dumps({"menu": data}))
    return True


def bootstrap() -> str:
    return str(settings.KAFKA_BOOTSTRAP_SERVERS)
