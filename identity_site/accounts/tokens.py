"""Signed, expiring links mailed to people: e-mail address verification."""

from __future__ import annotations

import enum
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset tokens (HMAC of the user's state and a timestamp, under
    SECRET_KEY) with a salt of their own and EMAIL_VERIFICATION_SECONDS to live.

    The hash covers the address and whether it is verified, so a link stops working once
    it has been used or once the address changes.
    """

    key_salt = "identity_site.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{timestamp}{user.email}{user.email_verified}"

    def state(self, user: Any, token: str) -> LinkState:
        """Whether `token` is a link we made for `user` as they are now, and still young."""
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return LinkState.INVALID
        secrets = [self.secret, *self.secret_fallbacks]
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in secrets
        ):
            return LinkState.INVALID
        if self._num_seconds(self._now()) - timestamp > settings.EMAIL_VERIFICATION_SECONDS:
            return LinkState.EXPIRED
        return LinkState.VALID

    def check_token(self, user: Any, token: str | None) -> bool:
        return bool(user and token) and self.state(user, str(token)) is LinkState.VALID


email_verification_tokens = EmailVerificationTokenGenerator()
