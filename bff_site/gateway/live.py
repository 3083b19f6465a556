"""Live order status for browsers: Order's Kafka events → Redis pub/sub → server-sent events.

One consumer process (`manage.py run_live_updates`) reads `coffeeshop.order-events`
and publishes a small status message on `live:user:<customer id>` and `live:staff`;
each browser's `GET /api/events` stream subscribes to its own channel(s).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from bff_site.sessions.people import account_channel
from shared.events import Envelope

logger = logging.getLogger("coffeeshop.bff.live")

STREAM_SECONDS = 55  # then the browser's EventSource reconnects (bounded threads per stream)
HEARTBEAT_SECONDS = 15
STATUS_BY_EVENT = {
    "order.placed": None,  # the payload's status says which
    "order.paid": "placed",
    "order.payment_failed": "payment_failed",
    "order.cancelled": "cancelled",
    "order.refunded": None,
    "order.status_changed": None,
}


def user_channel(user_id: str) -> str:
    return f"live:user:{user_id}"


STAFF_CHANNEL = "live:staff"


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
    """Push one event to its listeners once (deduplicated by event_id in Redis)."""
    found = message_for(envelope)
    if found is None:
        return False
    redis = get_redis_connection("default")
    if not redis.set(f"live:seen:{envelope.event_id}", 1, nx=True, ex=3600):
        return False
    customer, message = found
    data = json.dumps(message)
    if customer:
        redis.publish(user_channel(customer), data)
    redis.publish(STAFF_CHANNEL, data)
    return True


def stream(user: dict[str, Any]) -> Iterator[bytes]:
    """Server-sent events (text/event-stream) for this user, for STREAM_SECONDS.

    The stream ends early when Identity changes the person's access (people.py), so
    a demoted barista stops hearing the staff channel within a second.
    """
    account = account_channel(str(user["id"]))
    channels = [account, user_channel(str(user["id"]))]
    if {"barista", "manager"} & set(user.get("roles", [])):
        channels.append(STAFF_CHANNEL)
    pubsub = get_redis_connection("default").pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(*channels)
    started = last_beat = time.monotonic()
    try:
        yield b"retry: 2000\n\n"
        while time.monotonic() - started < STREAM_SECONDS:
            item = pubsub.get_message(timeout=1.0)
            if item is not None:
                channel = item["channel"]
                if (channel.decode() if isinstance(channel, bytes) else str(channel)) == account:
                    return
                data = (
                    item["data"].decode() if isinstance(item["data"], bytes) else str(item["data"])
                )
                yield f"event: order\ndata: {data}\n\n".encode()
            elif time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield b": keep-alive\n\n"
    finally:
        pubsub.close()


def bootstrap() -> str:
    return str(settings.KAFKA_BOOTSTRAP_SERVERS)
