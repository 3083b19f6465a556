"""The transactional outbox (events written with the change) and processed-event ids."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class OutboxEvent(models.Model):
    """An event written in the same transaction as the change it announces.

    The relay publishes unsent rows in id order (`SELECT … FOR UPDATE SKIP LOCKED`)
    and sets `sent_at` once Kafka acknowledged them.
    """

    event_id = models.UUIDField(unique=True)
    topic = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100)
    envelope = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The W3C `traceparent` of the transaction that wrote the event ("" when untraced):
    # the relay publishes it in that trace (shared.events).
    traceparent = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outbox_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.key} ({'sent' if self.sent_at else 'unsent'})"


class ProcessedEvent(models.Model):
    """An event a consumer has handled; the unique key makes handling idempotent."""

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "event_id"], name="outbox_processed_once_per_consumer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.event_type} {self.event_id}"
