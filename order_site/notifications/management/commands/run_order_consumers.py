"""`manage.py run_order_consumers`: Order's Kafka consumers, until SIGTERM/SIGINT.

Two loops in threads, each its own consumer group:
- `order-users`: `coffeeshop.user-events` → Order's copy of users;
- `order-notifications`: `coffeeshop.order-events` → e-mail to customers.
Each event is handled once (a processed-event row in the same transaction).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, transaction

from order_site.notifications.services import notification_send
from order_site.outbox.services import processed_event_record
from order_site.users.services import customer_apply_event
from shared.events import (
    ORDER_EVENTS_TOPIC,
    USER_EVENTS_TOPIC,
    Envelope,
    kafka_consumer,
    process_once,
    run_consumer,
)

USERS_CONSUMER = "order-users"
NOTIFICATIONS_CONSUMER = "order-notifications"


def handler(consumer: str, handle: Callable[[Envelope], Any]) -> Callable[[Envelope], None]:
    """`handle` run once per event id for this consumer, in one transaction."""

    def on_event(envelope: Envelope) -> None:
        if not connection.in_atomic_block:
            close_old_connections()  # a long-lived loop: drop a broken or stale connection
        process_once(
            envelope,
            atomic=transaction.atomic,
            record_processed=lambda event_id: processed_event_record(
                consumer=consumer, event_id=event_id, event_type=envelope.event_type
            ),
            handle=handle,
        )

    return on_event


HANDLERS: dict[str, tuple[str, Callable[[Envelope], None]]] = {
    USERS_CONSUMER: (
        USER_EVENTS_TOPIC,
        handler(USERS_CONSUMER, lambda e: customer_apply_event(envelope=e)),
    ),
    NOTIFICATIONS_CONSUMER: (
        ORDER_EVENTS_TOPIC,
        handler(NOTIFICATIONS_CONSUMER, lambda e: notification_send(envelope=e)),
    ),
}


class Command(BaseCommand):
    help = "Run Order's Kafka consumers (user copy, notifications) until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--only", choices=sorted(HANDLERS), help="run one consumer")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        names = [options["only"]] if options.get("only") else sorted(HANDLERS)
        threads = []
        for name in names:
            topic, on_event = HANDLERS[name]
            thread = threading.Thread(
                target=partial(
                    run_consumer,
                    consumer=kafka_consumer(settings.KAFKA_BOOTSTRAP_SERVERS, name),
                    topics=[topic],
                    on_event=on_event,
                    should_stop=stop.is_set,
                ),
                name=name,
            )
            thread.start()
            threads.append(thread)
        self.stdout.write(f"order consumers ready: {', '.join(names)}")
        self.stdout.flush()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.5)
