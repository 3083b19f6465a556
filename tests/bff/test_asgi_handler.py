"""The BFF's ASGI handler (`bff_site/config/handlers.py`): a sync API call runs on one
thread from start to end, with every protection of the middleware chain; coroutine
views (the live stream) keep Django's async chain. Driven in-process over ASGI, on the
real Redis of the test run."""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from asgiref import sync
from django.core import signals
from django.core.cache import cache, caches
from django.test import override_settings

from bff_site.config.handlers import BffASGIHandler, _async_view

BASE = "http://localhost"


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


@pytest.fixture(scope="module")
def handler() -> BffASGIHandler:
    return BffASGIHandler()


def calls(handler: BffASGIHandler, *requests: tuple[str, str, dict[str, str]]) -> Any:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=handler, client=("203.0.113.9", 50000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return [
                await client.request(method, path, headers=headers)
                for method, path, headers in requests
            ]

    return asyncio.run(run())


def test_an_api_call_crosses_between_the_event_loop_and_threads_only_through_its_pool(
    handler: BffASGIHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    crossings: Counter[str] = Counter()
    for name in ("SyncToAsync", "AsyncToSync"):
        kind = getattr(sync, name)
        original = kind.__call__

        def counted(
            self: Any, *args: Any, _name: str = name, _call: Any = original, **kw: Any
        ) -> Any:
            crossings[_name] += 1
            return _call(self, *args, **kw)

        monkeypatch.setattr(kind, "__call__", counted)

    (response,) = calls(handler, ("GET", "/api/session", {}))

    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    # Django's own ASGI handler crosses here again and again (the request signals,
    # into the middleware chain, back to the loop, into the view, closing).
    assert crossings == Counter()


def test_an_api_call_over_asgi_still_gets_the_security_headers_session_and_rate_limit(
    handler: BffASGIHandler,
) -> None:
    (response,) = calls(handler, ("GET", "/api/session", {}))

    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["RateLimit-Policy"] == "600;w=60;pk=:address:"
    assert response.headers["RateLimit"].startswith("limit=600, remaining=599, reset=")
    assert "__Host-coffeeshop-session" in response.cookies


def test_an_unsafe_api_call_without_the_csrf_token_is_refused_over_asgi(
    handler: BffASGIHandler,
) -> None:
    (response,) = calls(handler, ("POST", "/api/orders", {"Content-Type": "application/json"}))

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Frame-Options"] == "DENY"


@override_settings(
    RATE_LIMITS={
        "session": {"limit": 100, "window": 60},
        "address": {"limit": 2, "window": 60},
    }
)
def test_the_rate_limit_refuses_the_call_over_it_over_asgi(handler: BffASGIHandler) -> None:
    answers = calls(handler, *[("GET", "/api/session", {})] * 3)

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Content-Type"] == "application/problem+json"
    assert answers[2].json()["title"] == "Too many requests"
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_only_coroutine_views_take_the_async_chain() -> None:
    assert _async_view("/api/events") is True
    assert _async_view("/api/session") is False
    assert _async_view("/api/orders/12") is False
    assert _async_view("/no/such/page") is False


def test_a_pool_thread_keeps_its_cache_client_from_one_request_to_the_next(
    handler: BffASGIHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def note_cache(**kwargs: Any) -> None:
        seen.append(id(caches["default"]))

    monkeypatch.setattr(handler, "executor", ThreadPoolExecutor(max_workers=1))
    signals.request_started.connect(note_cache)
    try:
        answers = calls(handler, *[("GET", "/api/session", {})] * 3)
    finally:
        signals.request_started.disconnect(note_cache)

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(seen) == 3
    assert len(set(seen)) == 1
