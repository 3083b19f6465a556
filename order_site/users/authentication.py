"""Bearer tokens checked by RFC 7662 introspection against Identity (DESIGN.md auth flow 2).

The answer is cached in Redis for at most the token's remaining life, and an active
answer in the process too for a few seconds (a Redis round trip per request was a
tenth of a placement's CPU). The acting user is the token's subject, or — only for a
client holding the `orders:on-behalf-of` scope — the user named by `X-Acting-User`
with the roles in `X-Acting-Roles`; staff roles are honoured only when the client
also holds `orders:staff`, so a customer-facing client cannot state a barista.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from order_site.users.identity_client import identity_introspect
from order_site.users.principals import CUSTOMER, KNOWN_ROLES, STAFF_ROLES, Principal
from shared.http import DownstreamUnavailable
from shared.problems import Unavailable

logger = logging.getLogger("coffeeshop.order.auth")

ON_BEHALF_SCOPE = "orders:on-behalf-of"
STAFF_SCOPE = "orders:staff"
CACHE_PREFIX = "introspection:"
INACTIVE_CACHE_SECONDS = 5
MAX_CACHE_SECONDS = 300
# The in-process copy: active answers only, never past the token's `exp`, and never
# longer than this after Redis gave it, so it adds at most this much to how long a
# cached answer is believed. Bounded: a full copy is dropped whole (only tokens
# Identity called active get in, so nobody can fill it at will).
LOCAL_CACHE_SECONDS = 5.0
LOCAL_CACHE_SIZE = 1024
_local: dict[str, tuple[float, dict[str, Any]]] = {}


def _cache_key(token: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def introspect(token: str) -> dict[str, Any]:
    """Identity's RFC 7662 answer for a token, from Redis when we asked before.

    Raises Unavailable (503 naming Identity) when Identity cannot answer: the token
    may well be good, so the caller should retry later rather than sign in again.
    """
    key = _cache_key(token)
    local = _local.get(key)
    if local is not None:
        if time.monotonic() < local[0]:
            return dict(local[1])
        _local.pop(key, None)
    cached = cache.get(key)
    if cached is not None:
        _remember_locally(key, cached)
        return dict(cached)
    try:
        answer = identity_introspect(token=token)
    except DownstreamUnavailable as err:
        logger.warning("introspection failed: %s", err.reason)
        raise Unavailable("identity is unavailable", downstream="identity") from None
    if answer.get("active") is True:
        remaining = int(answer.get("exp", 0)) - int(time.time())
        ttl = min(remaining, MAX_CACHE_SECONDS)
        if ttl > 0:
            cache.set(key, answer, ttl)
            _remember_locally(key, answer)
    else:
        answer = {"active": False}
        cache.set(key, answer, INACTIVE_CACHE_SECONDS)
    return answer


def _remember_locally(key: str, answer: dict[str, Any]) -> None:
    if answer.get("active") is not True:
        return
    ttl = min(LOCAL_CACHE_SECONDS, float(answer.get("exp", 0)) - time.time())
    if ttl <= 0:
        return
    if len(_local) >= LOCAL_CACHE_SIZE:
        _local.clear()
    _local[key] = (time.monotonic() + ttl, dict(answer))


def principal_from_introspection(answer: dict[str, Any], headers: dict[str, str]) -> Principal:
    """The acting user from an active introspection answer and the request's headers.

    Raises AuthenticationFailed (401) for an inactive token and PermissionDenied
    (403) for a client that states a user without the on-behalf-of scope, or a
    token that names no user.
    """
    if answer.get("active") is not True:
        raise exceptions.AuthenticationFailed("The token is not active.")
    if int(answer.get("exp", 0)) <= int(time.time()):
        raise exceptions.AuthenticationFailed("The token has expired.")
    scopes = frozenset(str(answer.get("scope", "")).split())
    client_id = str(answer.get("client_id", ""))
    acting = headers.get("X-Acting-User")
    if acting is not None:
        if ON_BEHALF_SCOPE not in scopes:
            raise exceptions.PermissionDenied("This client may not act on behalf of users.")
        try:
            user_id = int(acting)
        except ValueError:
            raise exceptions.PermissionDenied("X-Acting-User must be a user id.") from None
        if user_id <= 0:
            raise exceptions.PermissionDenied("X-Acting-User must be a user id.")
        roles = {r.strip() for r in headers.get("X-Acting-Roles", "").split(",") if r.strip()}
        roles &= KNOWN_ROLES
        if STAFF_SCOPE not in scopes:
            roles -= STAFF_ROLES
        return Principal(user_id, frozenset(roles), client_id, scopes, on_behalf=True)
    sub = answer.get("sub")
    if not sub or not str(sub).isdigit():
        raise exceptions.PermissionDenied("The token names no user.")
    roles = set(answer.get("roles") or [CUSTOMER]) & KNOWN_ROLES
    return Principal(int(sub), frozenset(roles), client_id, scopes)


class IntrospectionAuthentication(BaseAuthentication):
    """DRF authentication: `Authorization: Bearer <token>` checked with Identity."""

    def authenticate(self, request: Request) -> tuple[Principal, str] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed token.") from None
        answer = introspect(token)
        principal = principal_from_introspection(answer, dict(request.headers))
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="coffeeshop-order"'
