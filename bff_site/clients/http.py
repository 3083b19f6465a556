"""The BFF's transports to its downstreams, one circuit breaker each (shared by all workers).

Thresholds (issue 5, "explicit thresholds"): a breaker opens after 5 consecutive
failures, or when half of the last 20 calls (at least 10) failed; it stays open
10 s, then lets one trial call through. Calls time out after
BFF_DOWNSTREAM_TIMEOUT seconds; only idempotent calls (or ones carrying an
Idempotency-Key) are retried, at most twice.

Order calls Identity to check our tokens; when it cannot, it answers 503 naming
Identity. That is Identity's failure, not Order's: the BFF answers 503 naming
Identity, does not retry, and Order's breaker counts the call as answered
(`relays_unavailable`, shared/http.py).
"""

from __future__ import annotations

import functools

from django.conf import settings

from shared.http import ServiceClient
from shared.resilience import CircuitBreaker, RedisBreakerStore


@functools.cache
def _store() -> RedisBreakerStore:
    return RedisBreakerStore.from_url(settings.REDIS_URL, password=settings.REDIS_PASSWORD)


def _breaker(name: str) -> CircuitBreaker:
    return CircuitBreaker(
        name,
        failure_threshold=5,
        failure_ratio=0.5,
        window_size=20,
        minimum_calls=10,
        open_seconds=10.0,
        half_open_max_calls=1,
        store=_store(),
    )


@functools.cache
def order_service() -> ServiceClient:
    return ServiceClient(
        name="order",
        base_url=settings.ORDER_URL,
        timeout=settings.DOWNSTREAM_TIMEOUT,
        retries=2,
        breaker=_breaker("order"),
        relays_unavailable=True,
        app_id="order",
    )


@functools.cache
def identity_service() -> ServiceClient:
    return ServiceClient(
        name="identity",
        base_url=settings.IDENTITY_URL,
        timeout=settings.DOWNSTREAM_TIMEOUT,
        retries=2,
        breaker=_breaker("identity"),
        app_id="identity",
    )
