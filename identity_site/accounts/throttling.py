"""Failed-login counters per account and client address, in Redis (shared by every worker)."""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.core.cache import cache

PREFIX = "login-failures:"


def _key(email: str, address: str) -> str:
    # Hashed so the cache holds no e-mail addresses.
    raw = f"{email.strip().lower()}|{address}".encode()
    return PREFIX + hashlib.sha256(raw).hexdigest()


def login_lockout_minutes(*, email: str, address: str) -> int:
    """Minutes until this account may try again from this address; 0 if not locked out."""
    key = _key(email, address)
    failures = cache.get(key, 0)
    if failures < settings.LOGIN_MAX_FAILURES:
        return 0
    seconds = cache.ttl(key)  # type: ignore[attr-defined]  # django-redis
    return max(1, math.ceil((seconds or settings.LOGIN_LOCKOUT_SECONDS) / 60))


def login_failure_record(*, email: str, address: str) -> int:
    """Count one failure; the count lives LOGIN_LOCKOUT_SECONDS from the first failure
    (and again from the one that locks the account out). Returns the new count."""
    key = _key(email, address)
    cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
    failures = int(cache.incr(key))
    if failures >= settings.LOGIN_MAX_FAILURES:
        cache.expire(key, timeout=settings.LOGIN_LOCKOUT_SECONDS)  # type: ignore[attr-defined]
    return failures


def login_failures_clear(*, email: str, address: str) -> None:
    cache.delete(_key(email, address))
