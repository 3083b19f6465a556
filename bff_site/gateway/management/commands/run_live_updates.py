"""Consume Order's and Identity's events: push status changes to browsers, refresh the
menu on every open stream after a menu edit, and end or update the sessions of people
whose access changed (long-lived)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from bff_site.gateway import live
from bff_site.sessions import people
from shared import metrics
from shared.events import (
    ORDER_EVENTS_TOPIC,
    USER_EVENTS_TOPIC,
    Envelope,
    kafka_consumer,
    run_consumer,
)


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        metrics.serve()
        # Live pushes are about now: a new group starts at the end of the topics. A
        # session signed in before this group existed carries its roles from sign-in.
        consumer = kafka_consumer(live.bootstrap(), "bff-live", **{"auto.offset.reset": "latest"})
        self.stdout.write("live updates: consuming order and user events")

        def on_event(envelope: Envelope) -> None:
            if envelope.event_type.startswith("user."):
                people.user_event_apply(envelope)
            elif envelope.event_type == live.MENU_EVENT:
                live.menu_publish(envelope)
            else:
                live.publish(envelope)

        run_consumer(
            consumer=consumer,
            topics=[ORDER_EVENTS_TOPIC, USER_EVENTS_TOPIC],
            on_event=on_event,
            should_stop=stop.is_set,
            name="bff-live",
        )
