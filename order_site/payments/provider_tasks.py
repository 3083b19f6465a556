"""How a Celery task that calls the payment provider retries: one base class for all of
them (a module of its own, not `tasks.py`: this app declares no tasks).

The tasks themselves (a charge, a batch of charges, a refund) are declared in
`order_site.order_payments`, beside the flows that record the provider's answer with
the order's move and queue them.

Retries: `Unavailable` (timeout, connection error, 5xx, circuit open) is retried
with exponential backoff and jitter, up to MAX_RETRIES; the payment stays
`requested` meanwhile. Late acknowledgement (and settings:
CELERY_TASK_REJECT_ON_WORKER_LOST) re-delivers a task whose worker died mid-charge;
the provider's idempotency key makes that repeat charge nothing twice.
"""

from __future__ import annotations

from typing import Any

from celery.contrib.django.task import DjangoTask

from shared.problems import Unavailable

MAX_RETRIES = 10
BACKOFF = 2  # seconds before the first retry, doubling each time (with jitter)
BACKOFF_MAX = 300


class ProviderTask(DjangoTask[Any, Any]):
    """A task that asks the payment provider for something: retried while the provider
    can't be reached, acknowledged only once done. `delay_on_commit` (Celery's own)
    queues it when the caller's transaction commits."""

    autoretry_for = (Unavailable,)
    retry_backoff = BACKOFF
    retry_backoff_max = BACKOFF_MAX
    retry_jitter = True
    max_retries = MAX_RETRIES
    acks_late = True
