"""Order's copy of Identity's users, kept fresh by `coffeeshop.user-events` (DESIGN.md flow 3)."""

from __future__ import annotations

from django.db import models


class Customer(models.Model):
    """A user as Order knows them: enough to address an e-mail."""

    # Identity's user id (the token's `sub`), not an id of our own.
    id = models.BigIntegerField(primary_key=True)
    email = models.EmailField(max_length=254, blank=True, default="")
    name = models.CharField(max_length=150, blank=True, default="")
    roles = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    # `occurred_at` of the event that wrote this row: an older event never overwrites it.
    source_event_at = models.DateTimeField()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.id} {self.email}"
