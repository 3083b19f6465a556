"""shared.events.run_consumer against the real broker: bad messages never block a
partition, a failing handler gets the event again, offsets follow handling."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings

from shared.events import Envelope, InvalidEvent, build_envelope, kafka_consumer, run_consumer

pytestmark = pytest.mark.kafka


@pytest.fixture
def topic() -> str:
    name = f"test.consumer.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    for future in admin.create_topics([NewTopic(name, 1, 1)]).values():
        future.result(30)
    return name


def produce(topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "acks": "all"})
    for value in values:
        producer.produce(topic, key=b"k", value=value)
    assert producer.flush(30) == 0


def consume(topic: str, group: str, on_event: Any, until: Any, timeout: float = 60) -> None:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_consumer,
        kwargs={
            "consumer": kafka_consumer(settings.KAFKA_BOOTSTRAP_SERVERS, group),
            "topics": [topic],
            "on_event": on_event,
            "should_stop": stop.is_set,
            "poll": 0.2,
            "retry_sleep": 0.1,
        },
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until():
        time.sleep(0.1)
    stop.set()
    thread.join(30)


def test_malformed_and_unusable_events_are_skipped_and_a_failing_handler_retries(topic):
    poison = build_envelope(event_type="user.created", payload={})
    flaky = build_envelope(event_type="user.updated", payload={"user_id": "1"})
    good = build_envelope(event_type="user.updated", payload={"user_id": "2"})
    produce(topic, [b"not json", poison.to_json(), flaky.to_json(), good.to_json()])
    handled: list[str] = []
    failures = {"left": 2}

    def on_event(envelope: Envelope) -> None:
        if envelope.event_id == poison.event_id:
            raise InvalidEvent("no user_id")
        if envelope.event_id == flaky.event_id and failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database away")
        handled.append(envelope.event_id)

    group = f"test-{uuid.uuid4().hex}"
    consume(topic, group, on_event, until=lambda: good.event_id in handled)
    # The same group again: every offset was committed, so nothing comes back.
    again: list[str] = []
    consume(topic, group, lambda e: again.append(e.event_id), until=lambda: False, timeout=5)

    assert handled == [flaky.event_id, good.event_id]
    assert failures == {"left": 0}
    assert again == []
