"""Relay Identity's user events from the outbox table to Kafka until SIGTERM/SIGINT."""

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from identity_site.outbox.relay import outbox_relay_run
from shared import metrics


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        metrics.serve()
        # The orchestrator waits for this word in the log before it calls the part ready.
        self.stdout.write("identity outbox relay: relaying", ending="\n")
        self.stdout.flush()
        outbox_relay_run(should_stop=stop.is_set)
        self.stdout.write("identity outbox relay: stopped")
