"""Identity's scheduled purges (settings: CELERY_BEAT_SCHEDULE). Each takes no
arguments and is safe to run any number of times."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings

from identity_site.housekeeping import services

logger = logging.getLogger("coffeeshop.identity.housekeeping")


@shared_task(ignore_result=True)
def outbox_purge_sent_task() -> int:
    """Delete outbox rows Kafka acknowledged longer ago than OUTBOX_SENT_RETENTION_SECONDS."""
    deleted = services.outbox_purge_sent(
        older_than=timedelta(seconds=settings.OUTBOX_SENT_RETENTION_SECONDS)
    )
    logger.info("housekeeping: purged %d sent outbox events", deleted)
    return deleted


@shared_task(ignore_result=True)
def oauth_tokens_purge_task() -> dict[str, Any]:
    """Delete expired tokens and grants (see services.oauth_tokens_purge)."""
    counts = asdict(services.oauth_tokens_purge())
    logger.info("housekeeping: purged expired OAuth rows %s", counts)
    return counts


@shared_task(ignore_result=True)
def session_purge_expired_task() -> int:
    """Delete expired sessions."""
    deleted = services.session_purge_expired()
    logger.info("housekeeping: purged %d expired sessions", deleted)
    return deleted
