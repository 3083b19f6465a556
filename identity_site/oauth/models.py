"""What each OAuth client may ask for, beside django-oauth-toolkit's Application row."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from oauth2_provider.models import Application


class ClientPolicy(models.Model):
    """The scopes one client may be granted; a client without a policy gets no scope at all."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="policy", primary_key=True
    )
    allowed_scopes = ArrayField(models.CharField(max_length=64), default=list, blank=True)

    class Meta:
        verbose_name = "client policy"
        verbose_name_plural = "client policies"

    def __str__(self) -> str:
        return f"policy of {self.application_id}"
