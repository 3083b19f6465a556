"""Security headers on every answer, and rate limits on the API."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django_redis import get_redis_connection

from shared.problems import problem
from shared.proxies import client_address


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy and the usual hardening headers on every answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            # Django admin ships inline scripts and styles of its own.
            response.setdefault(
                "Content-Security-Policy", "frame-ancestors 'none'; object-src 'none'"
            )
        else:
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.path.startswith(("/api/", "/auth/")):
            response.setdefault("Cache-Control", "no-store")
        return response


class RateLimitMiddleware:
    """Fixed-window limits per session and per client address, in Redis.

    The address is `shared.proxies.client_address`: the socket peer, or behind the
    proxies TRUSTED_PROXIES names, the address they saw.

    Answers carry `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers);
    over the limit: 429 problem details with `Retry-After`. Every window's counter is
    counted in one pipelined round trip (`_count`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(("/api/", "/auth/")):
            return self.get_response(request)
        now = time.time()
        scopes = [("address", client_address(request))]
        session_key = request.session.session_key if hasattr(request, "session") else None
        if session_key:
            scopes.append(("session", session_key))
        windows = []
        for scope, who in scopes:
            rule = settings.RATE_LIMITS[scope]
            limit, window = int(rule["limit"]), int(rule["window"])
            windows.append((scope, limit, window, f"rl:{scope}:{who}:{int(now // window)}"))
        counts = _count([(key, window) for _, _, window, key in windows])
        tightest: tuple[int, int, int, str] | None = None  # remaining, limit, reset, policy
        for (scope, limit, window, _), count in zip(windows, counts, strict=True):
            remaining = max(0, limit - count)
            reset = int(window - (now % window)) or 1
            policy = f"{limit};w={window};pk=:{scope}:"
            if count > limit:
                limited = problem(
                    429,
                    "Too many requests",
                    f"Rate limit of {limit} requests per {window}s per {scope} reached; "
                    f"retry in {reset}s.",
                    slug="rate-limited",
                )
                limited["Retry-After"] = str(reset)
                _headers(limited, limit, 0, reset, policy)
                return limited
            if tightest is None or remaining < tightest[0]:
                tightest = (remaining, limit, reset, policy)
        response = self.get_response(request)
        if tightest is not None:
            remaining, limit, reset, policy = tightest
            _headers(response, limit, remaining, reset, policy)
        return response


def _count(windows: list[tuple[str, int]]) -> list[int]:
    """Count this request in each `(key, window seconds)`; answers the new counts.

    INCR and EXPIRE of every key go to Redis as one pipeline, one round trip. (The
    cache's add + incr cost two round trips per window, and django-redis sends its
    incr as a Lua script, text and all, each time: under load the limiter was two
    fifths of the BFF's CPU.) A key outlives its window by a second, so a counter is
    never reset within its window; each window has a key of its own.
    """
    with get_redis_connection("default").pipeline(transaction=False) as pipe:
        for key, window in windows:
            full_key = cache.make_key(key)  # in the cache's namespace (prefix, version)
            pipe.incr(full_key)
            pipe.expire(full_key, window + 1)
        results = pipe.execute()
    return [int(count) for count in results[::2]]


def _headers(response: HttpResponse, limit: int, remaining: int, reset: int, policy: str) -> None:
    response["RateLimit"] = f"limit={limit}, remaining={remaining}, reset={reset}"
    response["RateLimit-Policy"] = policy
