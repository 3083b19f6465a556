"""Identity's outbox relay: shared.events' relay loop on Identity's outbox table.

Guarantee, honestly: at least once on the topic, exactly once per `event_id` for
consumers. A row is marked sent only after Kafka acknowledged it (idempotent
producer, acks=all, so the producer's own retries add no duplicates). If the
relay dies after Kafka's acknowledgement but before the mark commits, the row is
published again on restart with the same `event_id`; consumers drop it by that
id (DESIGN.md, "Events"). A Kafka transaction would not close this gap either,
since the database commit and the Kafka commit still happen one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from identity_site.outbox.models import OutboxEvent
from shared.events import (
    Envelope,
    OutgoingMessage,
    kafka_producer,
    run_relay,
    utc_iso,
)

BATCH_SIZE = 100
# pg advisory lock key: one relay batch at a time. Two relays taking different rows
# (SKIP LOCKED) could publish a user's later event before an earlier one.
RELAY_LOCK_KEY = 0x1D_0B0C


def outbox_envelope(*, row: OutboxEvent) -> Envelope:
    return Envelope(
        event_id=str(row.event_id),
        event_type=row.event_type,
        occurred_at=utc_iso(row.occurred_at),
        schema_version=row.schema_version,
        payload=dict(row.payload),
    )


@contextmanager
def outbox_claim_batch(limit: int = BATCH_SIZE) -> Iterator[Sequence[OutgoingMessage]]:
    """Lock the oldest unsent rows; while another relay holds the batch lock, claim none."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
            (mine,) = cursor.fetchone() or (False,)
        if not mine:
            yield []
            return
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")[:limit]
        )
        yield [
            OutgoingMessage(
                id=row.id,
                topic=row.topic,
                key=row.key,
                value=outbox_envelope(row=row).to_json(),
                event_id=str(row.event_id),
                traceparent=row.traceparent,
            )
            for row in rows
        ]


def outbox_mark_sent(ids: list[Any]) -> None:
    OutboxEvent.objects.filter(id__in=ids, sent_at__isnull=True).update(sent_at=timezone.now())


def outbox_relay_run(
    *, should_stop: Callable[[], bool], mark_sent: Callable[[list[Any]], None] | None = None
) -> None:
    """Publish unsent events until `should_stop()`; survives broker and database outages."""
    run_relay(
        producer_factory=lambda: kafka_producer(settings.KAFKA_BOOTSTRAP_SERVERS),
        claim_batch=outbox_claim_batch,
        mark_sent=mark_sent or outbox_mark_sent,
        should_stop=should_stop,
        full_batch=BATCH_SIZE,
    )
