"""`manage.py run_order_consumers`: Order's Kafka consumers, until SIGTERM/SIGINT.

Two loops in threads, each its own consumer group:
- `order-users`: `coffeeshop.user-events` → Order's copy of users;
- `order-notifications`: `coffeeshop.order-events` → e-mail to customers.
An event that would change nothing (most order events mail nobody) is passed over
without touching the database; every other one is handled once (a processed-event row
in the same transaction).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, transaction

from order_site.notifications.services import notification_send, notification_wanted
from order_site.outbox.services import processed_event_record
from order_site.users.services import USER_EVENTS, customer_apply_event
from shared import metrics
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

# How often the loop lets Django retire its connection (CONN_MAX_AGE) and health-check
# it (CONN_HEALTH_CHECKS): what a request boundary does for a web process, but not per
# event, where the check (a `SELECT 1`) would cost as much as the work.
CONNECTION_CHECK_SECONDS = 5.0

# The broker gathers up to 50 ms of events per fetch instead of answering each one
# alone: less CPU here and in Kafka for a little delay (figures: docs/decisions.md).
FETCH_SETTINGS = {"fetch.wait.max.ms": 50, "fetch.min.bytes": 65536}


def handler(
    consumer: str, handle: Callable[[Envelope], Any], wanted: Callable[[Envelope], bool]
) -> Callable[[Envelope], None]:
    """`handle` run once per event id for this consumer, in one transaction; an event
    `wanted` says no to is skipped before any database work (it would write nothing)."""
    checked = threading.local()  # one connection per thread, so one schedule per thread

    def tidy_connection() -> None:
        # Inside an outer atomic block (a test's transaction) the connection is not ours.
        if not connection.in_atomic_block:
            close_old_connections()
            checked.at = time.monotonic()

    def on_event(envelope: Envelope) -> None:
        if not wanted(envelope):
            return
        if time.monotonic() - getattr(checked, "at", float("-inf")) >= CONNECTION_CHECK_SECONDS:
            tidy_connection()
        try:
            process_once(
                envelope,
                atomic=transaction.atomic,
                record_processed=lambda event_id: processed_event_record(
                    consumer=consumer, event_id=event_id, event_type=envelope.event_type
                ),
                handle=handle,
            )
        except Exception:
            # Drop the connection if a database error broke it (close_old_connections
            # tests it then), so the retry of this event starts on a working one.
            tidy_connection()
            raise

    return on_event


HANDLERS: dict[str, tuple[str, Callable[[Envelope], None]]] = {
    USERS_CONSUMER: (
        USER_EVENTS_TOPIC,
        handler(
            USERS_CONSUMER,
            lambda e: customer_apply_event(envelope=e),
            lambda e: e.event_type in USER_EVENTS,
        ),
    ),
    NOTIFICATIONS_CONSUMER: (
        ORDER_EVENTS_TOPIC,
        handler(
            NOTIFICATIONS_CONSUMER,
            lambda e: notification_send(envelope=e),
            notification_wanted,
        ),
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
        metrics.serve()
        names = [options["only"]] if options.get("only") else sorted(HANDLERS)
        threads = []
        for name in names:
            topic, on_event = HANDLERS[name]
            thread = threading.Thread(
                target=partial(
                    run_consumer,
                    consumer=kafka_consumer(
                        settings.KAFKA_BOOTSTRAP_SERVERS, name, **FETCH_SETTINGS
                    ),
                    topics=[topic],
                    on_event=on_event,
                    should_stop=stop.is_set,
                    name=name,
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
