"""Reads of the outbox: what the relay has not published yet."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min

from identity_site.outbox.models import OutboxEvent


def outbox_backlog() -> tuple[int, datetime | None]:
    """How many rows wait for the relay, and when the oldest of them happened (None: none
    waits). Read through the partial index on unsent rows."""
    found = OutboxEvent.objects.filter(sent_at__isnull=True).aggregate(
        waiting=Count("id"), oldest=Min("occurred_at")
    )
    return int(found["waiting"]), found["oldest"]
