"""`manage.py run_outbox_relay`: publish the outbox to Kafka until stopped (SIGTERM/SIGINT)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from order_site.outbox.services import outbox_claim_batch, outbox_mark_sent
from shared.events import kafka_producer, run_relay


class Command(BaseCommand):
    help = "Relay the transactional outbox to Kafka (long-lived)."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write("outbox relay ready", ending="\n")
        self.stdout.flush()
        run_relay(
            producer_factory=lambda: kafka_producer(settings.KAFKA_BOOTSTRAP_SERVERS),
            claim_batch=outbox_claim_batch,
            mark_sent=outbox_mark_sent,
            should_stop=stop.is_set,
            on_error=lambda exc: close_old_connections(),
        )
