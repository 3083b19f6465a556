"""Writing events to the outbox, relaying them to Kafka, and recording processed events."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from order_site.outbox.models import OutboxEvent, ProcessedEvent
from shared import telemetry
from shared.events import Envelope, OutgoingMessage, build_envelope
from shared.housekeeping import delete_in_batches

logger = logging.getLogger("coffeeshop.order.outbox")

RELAY_BATCH_SIZE = 100
# An idle relay looks again this often: it is most of an event's way to a browser when
# the shop is quiet (it was 0.2 s, a fifth of the live-update budget; an empty round is
# one short transaction, 20 a second cost PostgreSQL and the relay about 1% of a core).
RELAY_IDLE_SECONDS = 0.05


def outbox_event_new(
    *, topic: str, key: str, event_type: str, payload: dict[str, Any]
) -> OutboxEvent:
    """An outbox row for one event, not yet written: for a caller that writes it in the
    same statement or transaction as the change it announces (see `shared.db`)."""
    envelope = build_envelope(event_type=event_type, payload=payload)
    return OutboxEvent(
        event_id=envelope.event_id,
        topic=topic,
        key=key,
        event_type=event_type,
        envelope=envelope.to_dict(),
        traceparent=telemetry.traceparent(),
    )


def outbox_record(*, topic: str, key: str, event_type: str, payload: dict[str, Any]) -> OutboxEvent:
    """Write one event to the outbox. Must run inside the transaction of the change
    it announces (raises TransactionManagementError otherwise)."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("outbox_record needs the change's transaction")
    event = outbox_event_new(topic=topic, key=key, event_type=event_type, payload=payload)
    event.save(force_insert=True)
    return event


# Any constant both relays agree on: the key of the advisory lock held by the active relay.
RELAY_LOCK_KEY = 0x0C0FFEE


@contextmanager
def outbox_claim_batch(batch_size: int = RELAY_BATCH_SIZE) -> Iterator[Sequence[OutgoingMessage]]:
    """Lock the oldest unsent rows for this relay until the block ends.

    Only one relay publishes at a time (a transaction-scoped advisory lock; the
    others get an empty batch and stand by): two relays publishing interleaved
    batches could put one order's events on Kafka out of order. `SKIP LOCKED`
    keeps the row locks from ever blocking.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
            (active,) = cursor.fetchone() or (False,)
        if not active:
            yield []
            return
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")[:batch_size]
        )
        yield [
            OutgoingMessage(
                id=row.id,
                topic=row.topic,
                key=row.key,
                value=Envelope(**row.envelope).to_json(),
                event_id=str(row.event_id),
                traceparent=row.traceparent,
            )
            for row in rows
        ]


def outbox_mark_sent(ids: list[Any]) -> None:
    """Mark rows delivered (runs inside `outbox_claim_batch`'s transaction)."""
    OutboxEvent.objects.filter(id__in=ids, sent_at__isnull=True).update(sent_at=timezone.now())


def processed_event_record(*, consumer: str, event_id: str, event_type: str) -> bool:
    """Record that `consumer` handled `event_id`; False when it already had.

    One statement, inside the handler's transaction: the unique key skips a duplicate
    instead of raising, so the transaction stays usable without a savepoint. An insert
    racing another consumer's for the same id waits for that transaction, then counts
    as a duplicate if it committed (PostgreSQL `INSERT … ON CONFLICT DO NOTHING`).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _processed_event_insert_sql(),
            [consumer, uuid.UUID(str(event_id)), event_type, timezone.now()],
        )
        return cursor.fetchone() is not None


@cache
def _processed_event_insert_sql() -> str:
    # Raw SQL because the ORM cannot tell an inserted row from a skipped one:
    # `bulk_create(ignore_conflicts=True)` reports neither, and `create()` needs a
    # savepoint to survive the IntegrityError. The columns are ProcessedEvent's fields
    # and the conflict target its unique constraint; the table name is the model's.
    table = connection.ops.quote_name(ProcessedEvent._meta.db_table)
    return (
        f"INSERT INTO {table} (consumer, event_id, event_type, processed_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s) ON CONFLICT (consumer, event_id) DO NOTHING RETURNING 1"
    )


def outbox_purge_sent(*, older_than: timedelta) -> int:
    """Delete rows Kafka acknowledged more than `older_than` ago; returns how many.
    Unsent rows are never deleted, however old."""
    cutoff = timezone.now() - older_than
    return delete_in_batches(OutboxEvent.objects.filter(sent_at__lt=cutoff))


def processed_event_purge(*, older_than: timedelta) -> int:
    """Delete processed-event rows recorded more than `older_than` ago; returns how many.

    A row is what makes a redelivered event a no-op, so `older_than` must exceed the
    longest a Kafka topic keeps an event (settings: PROCESSED_EVENT_RETENTION_SECONDS);
    an event older than that can no longer be delivered again."""
    cutoff = timezone.now() - older_than
    return delete_in_batches(ProcessedEvent.objects.filter(processed_at__lt=cutoff))
