"""Writing to the outbox (always inside the caller's transaction)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from identity_site.outbox.models import OutboxEvent
from shared import telemetry
from shared.events import SCHEMA_VERSION


def outbox_event_record(
    *, topic: str, key: str, event_type: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Queue one event; it is published only if the surrounding transaction commits.

    Raises TransactionManagementError outside a transaction: an event written on its
    own could be published for a change that then rolls back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "record outbox events inside the change's transaction"
        )
    return OutboxEvent.objects.create(
        topic=topic,
        key=key,
        event_type=event_type,
        occurred_at=timezone.now(),
        schema_version=SCHEMA_VERSION,
        payload=payload,
        traceparent=telemetry.traceparent(),
    )
