"""Scheduled purges of the outbox and of processed-event rows (Celery beat, settings:
CELERY_BEAT_SCHEDULE). Each takes no arguments and is safe to run any number of times."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from order_site.outbox.services import outbox_purge_sent, processed_event_purge

logger = logging.getLogger("coffeeshop.order.outbox")


@shared_task(ignore_result=True)
def outbox_purge_sent_task() -> int:
    """Delete outbox rows Kafka acknowledged longer ago than OUTBOX_SENT_RETENTION_SECONDS."""
    deleted = outbox_purge_sent(
        older_than=timedelta(seconds=settings.OUTBOX_SENT_RETENTION_SECONDS)
    )
    logger.info("outbox: purged %d sent events", deleted)
    return deleted


@shared_task(ignore_result=True)
def processed_event_purge_task() -> int:
    """Delete processed-event rows older than PROCESSED_EVENT_RETENTION_SECONDS."""
    deleted = processed_event_purge(
        older_than=timedelta(seconds=settings.PROCESSED_EVENT_RETENTION_SECONDS)
    )
    logger.info("outbox: purged %d processed-event rows", deleted)
    return deleted
