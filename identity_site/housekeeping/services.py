"""Purges of the tables that would otherwise grow for ever: sent outbox rows, expired
OAuth tokens and grants, expired sessions. Run on a schedule (tasks.py, Celery beat)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db.models import Model
from django.utils import timezone
from oauth2_provider.models import (
    clear_expired,
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from identity_site.outbox.models import OutboxEvent
from shared.housekeeping import delete_in_batches

logger = logging.getLogger("coffeeshop.identity.housekeeping")


def outbox_purge_sent(*, older_than: timedelta) -> int:
    """Delete outbox rows Kafka acknowledged more than `older_than` ago; returns how many.
    Unsent rows are never deleted, however old."""
    cutoff = timezone.now() - older_than
    return delete_in_batches(OutboxEvent.objects.filter(sent_at__lt=cutoff))


@dataclass(frozen=True)
class TokenCounts:
    access_tokens: int
    refresh_tokens: int
    id_tokens: int
    grants: int


def _token_counts() -> TokenCounts:
    def count(model: type[Model]) -> int:
        return int(model._default_manager.count())

    return TokenCounts(
        access_tokens=count(get_access_token_model()),
        refresh_tokens=count(get_refresh_token_model()),
        id_tokens=count(get_id_token_model()),
        grants=count(get_grant_model()),
    )


def oauth_tokens_purge() -> TokenCounts:
    """Delete expired OAuth rows with django-oauth-toolkit's own `clear_expired()`;
    answers how many rows of each kind fewer there are (approximate: tokens issued
    meanwhile are counted against it).

    What goes (django-oauth-toolkit 3.x, with our settings): grants (authorization
    codes) past their expiry; access tokens past expiry that no live refresh token
    holds; ID tokens past expiry whose access token is gone; a refresh token once its
    access token expired more than REFRESH_TOKEN_EXPIRE_SECONDS ago (its idle life);
    a revoked (rotated) refresh token only once it is that old as well, because with
    REFRESH_TOKEN_REUSE_PROTECTION it is what detects a stolen token being replayed.
    Deleting an access token evicts its cached introspection (oauth/cache.py)."""
    before = _token_counts()
    clear_expired()
    after = _token_counts()
    return TokenCounts(
        access_tokens=max(0, before.access_tokens - after.access_tokens),
        refresh_tokens=max(0, before.refresh_tokens - after.refresh_tokens),
        id_tokens=max(0, before.id_tokens - after.id_tokens),
        grants=max(0, before.grants - after.grants),
    )


def session_purge_expired() -> int:
    """Delete expired sign-in sessions from the database (SESSION_ENGINE is cached_db,
    so every sign-in on Identity's pages leaves a row); answers how many."""
    return delete_in_batches(Session.objects.filter(expire_date__lt=timezone.now()))
