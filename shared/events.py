"""Domain events on Kafka: the envelope, the producer, the outbox relay loop and consumers.

DESIGN.md, "Events": every event is JSON with `event_id` (UUID), `event_type`,
`occurred_at` (ISO 8601 UTC), `schema_version` and `payload`; producers are
idempotent with `acks=all`; the key is the aggregate id so one aggregate's events
stay ordered; consumers are idempotent (a processed-event table keyed by
`event_id`) and survive redelivery.

Traces (docs/architecture.md, "Telemetry"): an outbox row keeps the `traceparent` of
the transaction that wrote it; the relay publishes it in a span continuing that trace
and puts the span's own `traceparent` in the message's headers (W3C Trace Context);
`run_consumer` handles each event in a span continuing the header's. Spans name the
event id and the order id (the key of an order event), nothing of the payload.

Plain Python: no Django and no site is imported here. A site plugs in its own
storage through callables (fetch a batch of unsent outbox rows, mark them sent,
record an event as processed), so Identity and Order share one relay and one
consumer loop.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared import metrics, telemetry

logger = logging.getLogger("coffeeshop.events")

ORDER_EVENTS_TOPIC = "coffeeshop.order-events"
USER_EVENTS_TOPIC = "coffeeshop.user-events"
SCHEMA_VERSION = 1


class InvalidEvent(ValueError):
    """The bytes are not a CoffeeShop event envelope."""


@dataclass(frozen=True)
class Envelope:
    """One event as it travels on Kafka (DESIGN.md, "Events")."""

    event_id: str
    event_type: str
    occurred_at: str
    schema_version: int
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "schema_version": self.schema_version,
            "payload": self.payload,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True).encode()


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z` suffix; a naive datetime is refused."""
    if moment.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def build_envelope(
    *,
    event_type: str,
    payload: dict[str, Any],
    event_id: uuid.UUID | str | None = None,
    occurred_at: datetime | None = None,
    schema_version: int = SCHEMA_VERSION,
) -> Envelope:
    """A new envelope; a fresh UUID4 and the current time unless given."""
    if not event_type:
        raise ValueError("event_type is required")
    return Envelope(
        event_id=str(event_id or uuid.uuid4()),
        event_type=event_type,
        occurred_at=utc_iso(occurred_at or datetime.now(UTC)),
        schema_version=schema_version,
        payload=dict(payload),
    )


def parse_envelope(raw: bytes | str | None) -> Envelope:
    """Parse and check an envelope; raises InvalidEvent naming what is wrong."""
    if raw is None:
        raise InvalidEvent("empty message")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidEvent(f"not JSON: {err}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    try:
        event_id = str(uuid.UUID(str(data["event_id"])))
        event_type = data["event_type"]
        occurred_at = data["occurred_at"]
        schema_version = data["schema_version"]
        payload = data["payload"]
    except KeyError as err:
        raise InvalidEvent(f"missing field {err.args[0]}") from None
    except ValueError:
        raise InvalidEvent("event_id is not a UUID") from None
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEvent("event_type must be a non-empty string")
    if not isinstance(schema_version, int) or isinstance(schema_version, bool):
        raise InvalidEvent("schema_version must be an integer")
    if not isinstance(payload, dict):
        raise InvalidEvent("payload must be an object")
    try:
        parsed = datetime.fromisoformat(str(occurred_at).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent("occurred_at is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise InvalidEvent("occurred_at has no time zone")
    return Envelope(event_id, event_type, str(occurred_at), schema_version, payload)


# ---- producing ---------------------------------------------------------------------------


def producer_config(bootstrap_servers: str, **overrides: Any) -> dict[str, Any]:
    """Idempotent producer settings: no duplicates and no reordering per partition."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        # A batch that cannot be delivered in this time is reported failed and the relay
        # sends it again later (its rows stay unsent), so an outage never loses an event.
        "message.timeout.ms": 15000,
        "socket.timeout.ms": 5000,
        "reconnect.backoff.max.ms": 2000,
    }
    config.update(overrides)
    return config


def kafka_producer(bootstrap_servers: str, **overrides: Any) -> Any:
    """A confluent-kafka Producer with `enable.idempotence=true` and `acks=all`."""
    from confluent_kafka import Producer

    return Producer(producer_config(bootstrap_servers, **overrides))


@dataclass(frozen=True)
class OutgoingMessage:
    """One unsent outbox row: its id in the site's table, where and what to publish."""

    id: Any
    topic: str
    key: str
    value: bytes
    # The event's id, and the trace of the transaction that wrote it ("" if none).
    event_id: str = ""
    traceparent: str = ""


@dataclass
class DeliveryResult:
    delivered: list[Any] = field(default_factory=list)
    failed: list[tuple[Any, str]] = field(default_factory=list)
    fatal: bool = False


def _publish_span(message: OutgoingMessage) -> Any:
    """The span of one message's publication: a child of the trace its row was written
    in, ended when Kafka acknowledges it (or does not)."""
    span = telemetry.tracer().start_span(
        f"{message.topic} publish",
        context=telemetry.context_from(message.traceparent),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "publish",
            "messaging.destination.name": message.topic,
        },
    )
    telemetry.annotate(span, event_id=message.event_id or None, **_order_of(message))
    return span


def _order_of(message: OutgoingMessage) -> dict[str, Any]:
    """The order id of an order event (its key), for the span."""
    if message.topic == ORDER_EVENTS_TOPIC and message.key.isdigit():
        return {"order_id": int(message.key)}
    return {}


def _trace_headers(span: Any) -> list[tuple[str, bytes]]:
    carrier: dict[str, str] = {}
    telemetry.PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return [(name, value.encode()) for name, value in carrier.items()]


def publish_batch(
    producer: Any, messages: Sequence[OutgoingMessage], *, timeout: float = 30.0
) -> DeliveryResult:
    """Produce every message and wait for all delivery reports (or `timeout`); each
    message is published in a span of its row's trace, carried in its headers."""
    result = DeliveryResult()
    pending = {message.id for message in messages}
    spans: dict[Any, Any] = {}

    def reporter(message_id: Any) -> Callable[[Any, Any], None]:
        def on_delivery(err: Any, _msg: Any) -> None:
            pending.discard(message_id)
            span = spans.pop(message_id, None)
            if err is None:
                result.delivered.append(message_id)
            else:
                result.failed.append((message_id, str(err)))
                if getattr(err, "fatal", lambda: False)():
                    result.fatal = True
            if span is not None:
                if err is not None:
                    span.set_status(Status(StatusCode.ERROR, "not delivered"))
                span.end()

        return on_delivery

    for message in messages:
        span = spans[message.id] = _publish_span(message)
        while True:
            try:
                producer.produce(
                    message.topic,
                    key=message.key.encode(),
                    value=message.value,
                    headers=_trace_headers(span),
                    on_delivery=reporter(message.id),
                )
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: serve delivery reports, then retry
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        producer.flush(min(1.0, max(0.0, deadline - time.monotonic())))
    for message_id in list(pending):
        result.failed.append((message_id, "no delivery report in time"))
    for span in spans.values():
        span.set_status(Status(StatusCode.ERROR, "no delivery report in time"))
        span.end()
    return result


def relay_once(
    *,
    producer: Any,
    claim_batch: Callable[[], AbstractContextManager[Sequence[OutgoingMessage]]],
    mark_sent: Callable[[list[Any]], None],
    timeout: float = 30.0,
) -> tuple[int, DeliveryResult]:
    """Publish one batch of unsent rows and mark the delivered ones sent.

    `claim_batch` is a context manager that opens a transaction, locks a batch of
    unsent rows oldest first (`SELECT … FOR UPDATE SKIP LOCKED`, so several relays
    never publish the same row at once) and commits when the block ends;
    `mark_sent` runs inside it. Only the rows before the first failure are marked,
    so a key's events are never published out of order; the rest are sent again
    on the next round (consumers drop the duplicates by `event_id`).
    Returns how many rows were marked sent.
    """
    with claim_batch() as batch:
        if not batch:
            return 0, DeliveryResult()
        result = publish_batch(producer, batch, timeout=timeout)
        delivered = set(result.delivered)
        sent: list[Any] = []
        for message in batch:
            if message.id not in delivered:
                break
            sent.append(message.id)
        if sent:
            mark_sent(sent)
        return len(sent), result


def run_relay(
    *,
    producer_factory: Callable[[], Any],
    claim_batch: Callable[[], AbstractContextManager[Sequence[OutgoingMessage]]],
    mark_sent: Callable[[list[Any]], None],
    should_stop: Callable[[], bool],
    idle_sleep: float = 0.2,
    full_batch: int,
    gather_sleep: float = 0.05,
    error_sleep: float = 1.0,
    on_error: Callable[[BaseException], None] | None = None,
    on_idle: Callable[[], None] | None = None,
) -> None:
    """The long-lived relay: publish batches until `should_stop()`; survive broker outages.

    A fatal producer error (the idempotent producer can no longer guarantee order)
    replaces the producer; a database error is logged and retried after a pause.
    `on_idle` runs after a round that found nothing to send (housekeeping).

    A round that sent fewer than `full_batch` rows (the size of `claim_batch`'s
    batch) is followed by `gather_sleep` of
    rest, so that under load the next round finds a batch rather than a row or two:
    each round is a transaction and a wait for the broker's acknowledgement, and
    rounds back to back cost PostgreSQL and this process more than the events they
    carry (figures: docs/decisions.md, "relay and the dispatcher gather"). A full
    batch is followed at once. The price is at most `gather_sleep` of extra lag.
    """
    producer = producer_factory()
    while not should_stop():
        try:
            count, result = relay_once(
                producer=producer, claim_batch=claim_batch, mark_sent=mark_sent
            )
            metrics.OUTBOX_PUBLISHED.inc(count)
        except Exception as exc:
            logger.exception("outbox relay round failed")
            if on_error is not None:
                on_error(exc)
            time.sleep(error_sleep)
            continue
        if result.failed:
            logger.warning(
                "outbox relay: %d delivered, %d not delivered (first: %s)",
                count,
                len(result.failed),
                result.failed[0][1],
            )
            if result.fatal:
                producer = producer_factory()
            time.sleep(error_sleep)
        elif count == 0:
            if on_idle is not None:
                try:
                    on_idle()
                except Exception:
                    logger.exception("outbox relay housekeeping failed")
            time.sleep(idle_sleep)
        elif count < full_batch:
            time.sleep(gather_sleep)
    producer.flush(10)


# ---- consuming ---------------------------------------------------------------------------


def consumer_config(bootstrap_servers: str, group_id: str, **overrides: Any) -> dict[str, Any]:
    """At-least-once consumer: an offset is committed only after its event was handled.

    `run_consumer` stores each handled offset; librdkafka commits the stored offsets
    every second, on rebalance and on close (`enable.auto.offset.store` off, so
    nothing is committed that was not handled). A synchronous commit per event cost
    the broker more CPU than everything else it did; the price is that a consumer
    killed outright sees up to a second of events again, which idempotent handlers
    (`process_once`) absorb.
    """
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "enable.auto.commit": True,
        "enable.auto.offset.store": False,
        "auto.commit.interval.ms": 1000,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 10000,
        "reconnect.backoff.max.ms": 2000,
    }
    config.update(overrides)
    return config


def kafka_consumer(bootstrap_servers: str, group_id: str, **overrides: Any) -> Any:
    """A confluent-kafka Consumer (`consumer_config`) that reports its lag per partition
    to the process's metrics every few seconds (librdkafka's statistics)."""
    from confluent_kafka import Consumer

    overrides = {
        "statistics.interval.ms": metrics.CONSUMER_STATS_MS,
        "stats_cb": metrics.consumer_stats(group_id),
        **overrides,
    }
    return Consumer(consumer_config(bootstrap_servers, group_id, **overrides))


def process_once(
    envelope: Envelope,
    *,
    atomic: Callable[[], AbstractContextManager[Any]],
    record_processed: Callable[[str], bool],
    handle: Callable[[Envelope], None],
) -> bool:
    """Handle an event once: record its id and handle it in one transaction.

    `record_processed(event_id)` inserts the id into the site's processed-event
    table and answers False when it was already there (a redelivery), in which
    case nothing is handled. If `handle` raises, the transaction rolls back, the
    id is not recorded and the event is handled again on redelivery.
    Returns True when the event was handled now.
    """
    with atomic():
        if not record_processed(envelope.event_id):
            return False
        handle(envelope)
    return True


def iter_messages(consumer: Any, should_stop: Callable[[], bool], poll: float) -> Iterator[Any]:
    while not should_stop():
        message = consumer.poll(poll)
        if message is None:
            continue
        if message.error():
            logger.warning("kafka consumer: %s", message.error())
            continue
        yield message


def _skip(consumer: Any, message: Any, what: str, err: InvalidEvent) -> None:
    """Log an event that can never be handled and move past it."""
    logger.error(
        "skipping %s at %s[%d]@%d: %s",
        what,
        message.topic(),
        message.partition(),
        message.offset(),
        err,
    )
    consumer.store_offsets(message=message)


def _traceparent_of(message: Any) -> bytes | None:
    for header, value in message.headers() or ():
        if header == telemetry.TRACEPARENT:
            return bytes(value) if value is not None else None
    return None


def _process_span(message: Any, name: str) -> Any:
    """The span one message is handled in (as the span in force)."""
    attributes = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": message.topic(),
        "messaging.destination.partition.id": str(message.partition()),
        "messaging.kafka.offset": message.offset(),
    }
    if name:
        attributes["messaging.consumer.group.name"] = name
    return telemetry.tracer().start_as_current_span(
        f"{message.topic()} process {name}".rstrip(),
        context=telemetry.context_from(_traceparent_of(message)),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    )


def _annotate_event(span: Any, envelope: Envelope) -> None:
    order_id = envelope.payload.get("order_id")
    telemetry.annotate(
        span,
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        order_id=order_id if isinstance(order_id, int) and not isinstance(order_id, bool) else None,
    )


def run_consumer(
    *,
    consumer: Any,
    topics: list[str],
    on_event: Callable[[Envelope], None],
    should_stop: Callable[[], bool],
    poll: float = 0.5,
    retry_sleep: float = 1.0,
    name: str = "",
) -> None:
    """Consume until `should_stop()`; store each offset after `on_event` returned (it is
    committed within a second, and on close: see `consumer_config`).

    Each event is handled in a span continuing the trace of its message's `traceparent`
    header, named after the topic and `name` (the consumer group).

    A malformed message, or one whose handler raises InvalidEvent, is logged and
    skipped (it would never succeed); any other failure leaves the offset
    uncommitted and the message is handled again (seek back), so nothing is lost;
    `on_event` must be idempotent (see `process_once`).
    """
    from confluent_kafka import TopicPartition

    consumer.subscribe(topics)
    try:
        for message in iter_messages(consumer, should_stop, poll):
            with _process_span(message, name) as span:
                try:
                    envelope = parse_envelope(message.value())
                except InvalidEvent as err:
                    _skip(consumer, message, "malformed event", err)
                    continue
                _annotate_event(span, envelope)
                try:
                    on_event(envelope)
                except InvalidEvent as err:
                    # The handler found the payload unusable: it never will be, so skip it
                    # rather than block the partition (it stays in the log for inspection).
                    what = f"unusable {envelope.event_type} {envelope.event_id}"
                    _skip(consumer, message, what, err)
                    continue
                except Exception:
                    logger.exception(
                        "handling %s %s failed", envelope.event_type, envelope.event_id
                    )
                    span.set_status(Status(StatusCode.ERROR, "handling failed"))
                    consumer.seek(
                        TopicPartition(message.topic(), message.partition(), message.offset())
                    )
                    time.sleep(retry_sleep)
                    continue
                consumer.store_offsets(message=message)
    finally:
        consumer.close()
