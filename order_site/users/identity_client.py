"""Order's typed client for Identity (DESIGN.md auth flow 3), on `shared.http`.

Two calls: RFC 7662 introspection as the `order-service` client, and a user's
contact data (`GET /api/users/<id>`) with a client_credentials token of the
`notifier` client (scope `users:read`), cached in Redis until shortly before it
expires. Identity's "no such user" is remembered in Redis for a minute, so a stream of
events for one unknown user asks once. Every call has a timeout; a down Identity raises
`DownstreamUnavailable` (and is never taken for "no such user").
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.cache import cache

from shared.http import DownstreamUnavailable, ServiceClient

logger = logging.getLogger("coffeeshop.order.users")

TOKEN_CACHE_KEY = "identity:notifier-token"  # noqa: S105 - a cache key, not a secret
TIMEOUT_SECONDS = 3.0
# How long Identity's 404 for a user is believed; the user-events consumer forgets it
# sooner when the user appears (identity_missing_user_forget).
MISSING_USER_TTL_SECONDS = 60

_clients: dict[str, ServiceClient] = {}
_lock = threading.Lock()


class IdentityError(DownstreamUnavailable):
    """Identity answered, but not as the contract says (e.g. our client was refused)."""


def identity_service() -> ServiceClient:
    """The transport to Identity at `settings.IDENTITY_URL` (one per URL and process)."""
    base_url = settings.IDENTITY_URL
    with _lock:
        client = _clients.get(base_url)
        if client is None:
            client = ServiceClient(
                name="identity",
                base_url=base_url,
                timeout=TIMEOUT_SECONDS,
                retries=1,
                app_id="identity",
            )
            _clients[base_url] = client
        return client


def identity_introspect(*, token: str) -> dict[str, Any]:
    """Identity's RFC 7662 answer for `token`; raises DownstreamUnavailable/IdentityError."""
    response = identity_service().post(
        "/o/introspect/",
        data={"token": token},
        headers={
            "Authorization": _basic(settings.ORDER_CLIENT_ID, settings.IDENTITY_CLIENT_SECRET)
        },
    )
    if response.status_code != 200:
        raise IdentityError("identity", f"introspection answered {response.status_code}")
    answer: dict[str, Any] = response.json()
    return answer


def identity_user_contact(*, user_id: int) -> dict[str, Any] | None:
    """A user's contact data (`id`, `email`, `full_name`, `roles`, `is_active`), or None
    when Identity has no such user (an answer remembered for MISSING_USER_TTL_SECONDS);
    raises DownstreamUnavailable/IdentityError."""
    if cache.get(missing_user_cache_key(user_id)):
        return None
    response = identity_service().get(
        f"/api/users/{user_id}", headers={"Authorization": f"Bearer {_notifier_token()}"}
    )
    if response.status_code == 404:
        cache.set(missing_user_cache_key(user_id), 1, MISSING_USER_TTL_SECONDS)
        return None
    if response.status_code in (401, 403):
        cache.delete(TOKEN_CACHE_KEY)  # revoked or expired early: ask for a new one next time
    if response.status_code != 200:
        raise IdentityError("identity", f"user lookup answered {response.status_code}")
    contact: dict[str, Any] = response.json()
    return contact


def identity_missing_user_forget(*, user_id: int) -> None:
    """Forget a remembered "Identity has no user `user_id`" (the user now exists).
    Best effort: with Redis down the entry expires on its own."""
    try:
        cache.delete(missing_user_cache_key(user_id))
    except Exception as err:  # Redis down: the TTL still bounds how long it is believed
        logger.warning("could not forget missing user %s: %s", user_id, err)


def missing_user_cache_key(user_id: int) -> str:
    return f"identity:no-user:{user_id}"


def _notifier_token() -> str:
    cached = cache.get(TOKEN_CACHE_KEY)
    if cached:
        return str(cached)
    response = identity_service().post(
        "/o/token/",
        data={"grant_type": "client_credentials", "scope": "users:read"},
        headers={
            "Authorization": _basic(settings.NOTIFIER_CLIENT_ID, settings.NOTIFIER_CLIENT_SECRET)
        },
    )
    if response.status_code != 200:
        raise IdentityError("identity", f"token endpoint answered {response.status_code}")
    data = response.json()
    token = str(data["access_token"])
    ttl = int(data.get("expires_in", 60)) - 30
    if ttl > 0:
        cache.set(TOKEN_CACHE_KEY, token, ttl)
    return token


def _basic(client_id: str, secret: str) -> str:
    """HTTP Basic client authentication (RFC 6749 section 2.3.1: form-encode, then base64)."""
    import base64
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()
