"""`manage.py run_outbox_relay`: publish the outbox to Kafka until stopped (SIGTERM/SIGINT).

Beside it, in a thread, the payment dispatcher hands requested charges to Celery
(`order_site.order_payments.dispatcher`; `--no-payments` leaves it out): both move what a
committed transaction asked for out of PostgreSQL. Sent rows are purged by Celery beat
(`order_site.outbox.tasks`), not here.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from order_site.order_payments.dispatcher import payments_dispatch_loop
from order_site.outbox.services import (
    RELAY_BATCH_SIZE,
    RELAY_IDLE_SECONDS,
    outbox_claim_batch,
    outbox_mark_sent,
)
from shared import metrics
from shared.events import kafka_producer, run_relay


class Command(BaseCommand):
    help = "Relay the transactional outbox to Kafka (long-lived)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-payments",
            action="store_true",
            help="do not run the payment dispatcher in this process",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        metrics.serve()
        dispatcher = None
        if not options["no_payments"]:
            dispatcher = threading.Thread(
                target=payments_dispatch_loop,
                kwargs={"should_stop": stop.is_set},
                name="payment-dispatcher",
            )
            dispatcher.start()
        self.stdout.write("outbox relay ready", ending="\n")
        self.stdout.flush()
        try:
            self._relay(stop)
        finally:
            stop.set()
            if dispatcher is not None:
                dispatcher.join(30)

    def _relay(self, stop: threading.Event) -> None:
        run_relay(
            producer_factory=lambda: kafka_producer(settings.KAFKA_BOOTSTRAP_SERVERS),
            claim_batch=outbox_claim_batch,
            mark_sent=outbox_mark_sent,
            should_stop=stop.is_set,
            full_batch=RELAY_BATCH_SIZE,
            idle_sleep=RELAY_IDLE_SECONDS,
            on_error=lambda exc: close_old_connections(),
        )
