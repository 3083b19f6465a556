"""Identity's outbox rows, written directly: a test about the relay or the purge needs
rows in a given state (sent days ago …), not the change that would have written them."""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from identity_site.outbox.models import OutboxEvent
from shared.events import SCHEMA_VERSION, USER_EVENTS_TOPIC


class OutboxEventFactory(DjangoModelFactory[OutboxEvent]):
    """An unsent `user.updated` event; `sent_at=` for one the relay has published."""

    class Meta:
        model = OutboxEvent

    topic = USER_EVENTS_TOPIC
    key = factory.Sequence(str)
    event_type = "user.updated"
    occurred_at = factory.LazyFunction(timezone.now)
    schema_version = SCHEMA_VERSION
    payload = factory.Dict({})
    sent_at = None
