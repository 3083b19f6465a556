"""Introspection answers cached in Redis, keyed by the SHA-256 of the token.

A cached answer never outlives the token (TTL ≤ its remaining life) and is
evicted the moment the token row goes away: revocation, refresh rotation,
reuse protection and RP-initiated logout all delete the AccessToken row, and
a post_delete receiver evicts its entry. That receiver is cache coherence for
a library-owned model, not domain flow, which is why it is a signal.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete
from oauth2_provider.models import get_access_token_model

PREFIX = "introspect:"


def token_checksum(token: str) -> str:
    """The SHA-256 hex digest django-oauth-toolkit also stores as `token_checksum`."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def introspection_cached(*, checksum: str) -> dict[str, Any] | None:
    value = cache.get(PREFIX + checksum)
    return value if isinstance(value, dict) else None


def introspection_store(*, checksum: str, answer: dict[str, Any], ttl: int) -> None:
    if ttl > 0:
        cache.set(PREFIX + checksum, answer, timeout=ttl)


def introspection_evict(*, checksum: str) -> None:
    cache.delete(PREFIX + checksum)


def _evict_deleted_token(sender: Any, instance: Any, **kwargs: Any) -> None:
    checksum = instance.token_checksum
    if checksum:
        introspection_evict(checksum=checksum)
        # Again once the delete is committed: an introspection that read the row before
        # the commit could otherwise store its "active" answer after the first eviction
        # (its own re-check still saw the uncommitted row).
        transaction.on_commit(partial(introspection_evict, checksum=checksum), robust=True)


def connect_eviction() -> None:
    post_delete.connect(
        _evict_deleted_token,
        sender=get_access_token_model(),
        dispatch_uid="identity_site.oauth.cache.evict",
    )
