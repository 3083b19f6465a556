"""Helpers to run the outbox relay and read a topic back from the real broker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer
from django.conf import settings
from django.db import connection

from order_site.outbox.models import OutboxEvent
from order_site.outbox.services import RELAY_BATCH_SIZE, outbox_claim_batch, outbox_mark_sent
from shared.events import Envelope, kafka_producer, parse_envelope, run_relay


@contextmanager
def running_relay(
    claim_batch: Callable[[], Any] = outbox_claim_batch, **producer_overrides: object
) -> Iterator[None]:
    """The relay loop of `run_outbox_relay`, in a thread, for the block's duration."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def loop() -> None:
        try:
            run_relay(
                producer_factory=lambda: kafka_producer(
                    settings.KAFKA_BOOTSTRAP_SERVERS, **producer_overrides
                ),
                claim_batch=claim_batch,
                mark_sent=outbox_mark_sent,
                should_stop=stop.is_set,
                full_batch=RELAY_BATCH_SIZE,
                idle_sleep=0.05,
                error_sleep=0.2,
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="test-relay")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
    assert failures == []


def wait_until_all_sent(timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unsent = OutboxEvent.objects.filter(sent_at__isnull=True).count()
        if unsent == 0:
            return 0
        time.sleep(0.2)
    return OutboxEvent.objects.filter(sent_at__isnull=True).count()


def read_topic(topic: str, event_ids: set[str], timeout: float = 60) -> list[tuple[str, Envelope]]:
    """(key, envelope) of every message on `topic` whose event id is wanted, in log order
    per partition, until all wanted ids were seen."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen: list[tuple[str, Envelope]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not event_ids <= {e.event_id for _, e in seen}:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            envelope = parse_envelope(message.value())
            if envelope.event_id in event_ids:
                seen.append((message.key().decode(), envelope))
    finally:
        consumer.close()
    return seen
