"""Consume Order's events and push status changes to browsers (long-lived)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from bff_site.gateway import live
from shared.events import ORDER_EVENTS_TOPIC, Envelope, kafka_consumer, run_consumer


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        # Live pushes are about now: a new group starts at the end of the topic.
        consumer = kafka_consumer(live.bootstrap(), "bff-live", **{"auto.offset.reset": "latest"})
        self.stdout.write("live updates: consuming order events")

        def on_event(envelope: Envelope) -> None:
            live.publish(envelope)

        run_consumer(
            consumer=consumer,
            topics=[ORDER_EVENTS_TOPIC],
            on_event=on_event,
            should_stop=stop.is_set,
        )
