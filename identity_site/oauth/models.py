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


class CodeRedemption(models.Model):
    """Which tokens an authorization code was exchanged for, so that a replay of the code
    can revoke them (RFC 6749 section 4.1.2, RFC 9700 section 2.1.1).

    django-oauth-toolkit deletes the code's Grant row at the exchange, so without this
    row a replay only learns "no such code". The code itself is not kept, only its
    SHA-256. Rows are dropped once the refresh tokens they point at would have expired.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    code_checksum = models.CharField(max_length=64)
    access_token_checksum = models.CharField(max_length=64)
    # The refresh-token family of the exchange: every refresh token rotated from the
    # first one shares it (null if no refresh token was issued).
    token_family = models.UUIDField(null=True, blank=True)
    redeemed = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "code_checksum"], name="oauth_code_redeemed_once"
            )
        ]

    def __str__(self) -> str:
        return f"code redemption {self.pk}"
