"""Order's outbox and processed-event rows, written directly: a test about the relay or
a purge needs rows in a given state (sent days ago …), not the change that wrote them.
The row's columns and its envelope agree, as `outbox_event_new` makes them."""

from __future__ import annotations

import uuid
from typing import Any

import factory
from factory.django import DjangoModelFactory

from order_site.outbox.models import OutboxEvent, ProcessedEvent
from shared.events import ORDER_EVENTS_TOPIC, build_envelope


class _BackdatedFactory(DjangoModelFactory[Any]):
    """`created_at`/`processed_at` are `auto_now_add`: a value given here is written
    after the insert, so a test can make a row days old."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type[Any], *args: Any, **kwargs: Any) -> Any:
        backdated = {
            name: kwargs.pop(name)
            for name in ("created_at", "processed_at")
            if kwargs.get(name) is not None
        }
        row = super()._create(model_class, *args, **kwargs)
        if backdated:
            model_class.objects.filter(pk=row.pk).update(**backdated)
            row.refresh_from_db()
        return row


class OutboxEventFactory(_BackdatedFactory):
    """An unsent event; `sent_at=` for one the relay has published."""

    class Meta:
        model = OutboxEvent
        exclude = ("payload",)

    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    topic = ORDER_EVENTS_TOPIC
    key = factory.Sequence(str)
    event_type = "order.placed"
    payload = factory.Dict({})
    envelope = factory.LazyAttribute(
        lambda o: build_envelope(
            event_type=o.event_type, payload=o.payload, event_id=o.event_id
        ).to_dict()
    )
    sent_at = None
    created_at = None


class ProcessedEventFactory(_BackdatedFactory):
    """An event a consumer has handled (`processed_at=` to make it old)."""

    class Meta:
        model = ProcessedEvent

    consumer = "order-users"
    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    event_type = "x.y"
    processed_at = None
