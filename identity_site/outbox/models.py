"""Events waiting to be published to Kafka, written in the same transaction as the change."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class OutboxEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=200)
    key = models.CharField(max_length=200, help_text="Kafka key: the aggregate's id.")
    event_type = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    schema_version = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # The W3C `traceparent` of the transaction that wrote the event ("" when untraced):
    # the relay publishes it in that trace (shared.events).
    traceparent = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay's only query: unsent rows, oldest first.
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outbox_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
