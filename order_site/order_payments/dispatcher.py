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

from django.db import close_old_connections, connection, transaction

from order_site.order_payments.charges import payment_charges_queue
from order_site.order_payments.refunds import payment_refund_task
from order_site.payments.services import (
    DISPATCH_BATCH,
    payments_stale_release,
    payments_undispatched_claim,
)

logger = logging.getLogger("coffeeshop.payments")

DISPATCH_IDLE_SECONDS = 0.1
ERROR_SLEEP_SECONDS = 1.0
REQUEUE_EVERY_SECONDS = 60.0
REQUEUE_OLDER_THAN = timedelta(minutes=15)


def payments_dispatch(*, limit: int = DISPATCH_BATCH) -> int:
    """Queue the charge task of requested payments not queued yet, oldest first, at most
    `limit`; returns how many.

    The payment row, written in the order's own transaction, is the durable request
    for its task: a crash anywhere between placement and Celery loses nothing, where
    an on-commit publish from the request would be lost with its process. The tasks
    are published while this transaction holds the rows' locks: a task that starts
    before the commit waits for it (`payment_charge` locks its row), and if the commit
    fails the payments stay unqueued and are published again. A duplicate task is
    harmless: the charge is idempotent.
    """
    with transaction.atomic():
        claimed = payments_undispatched_claim(limit=limit)
        if claimed:
            payment_charges_queue(list(claimed), traceparents=claimed)
    return len(claimed)


def payments_requeue_stale(*, older_than: timedelta = timedelta(minutes=15)) -> tuple[int, int]:
    """Queue again every charge and refund still `requested` and untouched for `older_than`.

    For payments whose task was lost or gave up (its retries exhausted while the
    provider was down): the tasks are idempotent, so queueing one that is in fact
    still retrying costs a skipped run, never a second charge. Charges go back to the
    dispatcher (`queued_at` cleared); refunds are queued after commit. Returns
    (payments, refunds) queued. The dispatcher loop runs it every minute; `manage.py
    payments_requeue` runs it by hand.
    """
    with transaction.atomic():
        payments, refund_ids = payments_stale_release(older_than=older_than)
        for refund_id in refund_ids:
            payment_refund_task.delay_on_commit(refund_id)
    if payments or refund_ids:
        logger.warning("requeued %d payments, %d refunds", payments, len(refund_ids))
    return payments, len(refund_ids)


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
