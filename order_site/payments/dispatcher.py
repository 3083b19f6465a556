"""The loop that hands requested charges to Celery: `payments_dispatch` until stopped.

Run by Order's relay process (`manage.py run_outbox_relay`) beside the outbox relay:
both move what a committed transaction asked for out of PostgreSQL. It polls
every DISPATCH_IDLE_SECONDS, and at once again only after a round that filled a whole
batch: under load a round then carries tens of charges instead of one or two (each
round is a transaction, an UPDATE and a broker publish, which cost more than the
charges they carried when rounds ran back to back). Once a minute it gives stale
requested payments back to itself (`payments_requeue_stale`), so a charge whose task
was lost is retried without a hand on `manage.py payments_requeue`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import close_old_connections, connection

from order_site.payments.services import (
    DISPATCH_BATCH,
    payments_dispatch,
    payments_requeue_stale,
)

logger = logging.getLogger("coffeeshop.payments")

DISPATCH_IDLE_SECONDS = 0.1
ERROR_SLEEP_SECONDS = 1.0
REQUEUE_EVERY_SECONDS = 60.0
REQUEUE_OLDER_THAN = timedelta(minutes=15)


def payments_dispatch_loop(*, should_stop: Callable[[], bool]) -> None:
    """Queue requested charges until `should_stop()`; survive database and broker outages."""
    last_requeue = time.monotonic()
    try:
        while not should_stop():
            try:
                queued = payments_dispatch()
                if time.monotonic() - last_requeue >= REQUEUE_EVERY_SECONDS:
                    last_requeue = time.monotonic()
                    payments_requeue_stale(older_than=REQUEUE_OLDER_THAN)
            except Exception:
                logger.exception("payment dispatch round failed")
                close_old_connections()  # a broken connection is replaced next round
                time.sleep(ERROR_SLEEP_SECONDS)
                continue
            if queued < DISPATCH_BATCH:
                time.sleep(DISPATCH_IDLE_SECONDS)
    finally:
        connection.close()  # this thread's own connection
