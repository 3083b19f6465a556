"""The BFF's protections, against the real Redis the test run started."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import get_resolver


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def test_every_answer_carries_a_strict_csp_and_security_headers(client: Client) -> None:
    response = client.get("/api/session")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"


def test_session_summary_of_a_visitor_says_signed_out_and_gives_a_csrf_token(
    client: Client,
) -> None:
    response = client.get("/api/session")
    body = response.json()
    assert response.status_code == 200
    assert body["authenticated"] is False
    assert body["user"] is None
    assert len(body["csrf_token"]) >= 32


def test_the_session_cookie_is_host_prefixed_httponly_secure_and_lax(client: Client) -> None:
    response = client.get("/api/session")
    cookie = response.cookies["__Host-coffeeshop-session"]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["domain"]


def test_unsafe_method_without_the_csrf_header_is_refused() -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/api/session")
    response = browser.post("/api/cart/price", data={"lines": []}, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_private_endpoints_answer_401_problem_details_to_a_visitor(client: Client) -> None:
    for path in ("/api/orders", "/api/orders/1", "/api/profile", "/api/staff/queue"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["title"] == "Sign-in required"


def test_placing_an_order_needs_sign_in_before_anything_is_forwarded(client: Client) -> None:
    response = client.post(
        "/api/orders",
        data={"lines": []},
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status_code == 401


def test_a_callback_with_an_unknown_state_is_refused_with_a_clear_message(client: Client) -> None:
    response = client.get(
        "/auth/callback", {"code": "abc", "state": "never-issued"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "expired or was already used" in response.json()["detail"]
    assert "oidc_tokens" not in client.session


def test_rate_limit_answers_429_with_retry_after_and_ratelimit_headers(
    client: Client, settings: object
) -> None:
    settings.RATE_LIMITS = {  # type: ignore[attr-defined]
        "session": {"limit": 100, "window": 60},
        "address": {"limit": 3, "window": 60},
    }
    answers = [client.get("/api/session") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["RateLimit-Policy"] == "3;w=60;pk=:address:"
    assert answers[0]["RateLimit"].startswith("limit=3, remaining=2, reset=")
    limited = answers[3]
    assert int(limited["Retry-After"]) >= 1
    assert limited["Content-Type"] == "application/problem+json"
    assert limited.json()["status"] == 429


def test_rate_limit_counters_expire_with_their_window(client: Client, settings: object) -> None:
    settings.RATE_LIMITS = {  # type: ignore[attr-defined]
        "session": {"limit": 100, "window": 60},
        "address": {"limit": 50, "window": 30},
    }

    client.get("/api/session")
    second = client.get("/api/session")

    keys = cache.keys("rl:address:*")  # type: ignore[attr-defined]
    assert len(keys) == 1
    assert 0 < cache.ttl(keys[0]) <= 31  # type: ignore[attr-defined]
    assert second["RateLimit"].startswith("limit=50, remaining=48, reset=")


def test_the_openapi_document_describes_every_api_path(client: Client) -> None:
    document = client.get("/api/schema/").json()
    assert document["openapi"] == "3.1.0"
    assert {"/api/menu", "/api/orders", "/api/staff/queue", "/api/events"} <= set(document["paths"])


def api_routes() -> dict[str, set[str]]:
    """Every `/api/` route of the BFF's URLconf (OpenAPI path form) and the methods its
    view takes, the schema's own pages left out."""
    routes: dict[str, set[str]] = {}
    for pattern in get_resolver().url_patterns:
        route = str(pattern.pattern)
        if not route.startswith("api/") or route in ("api/schema/", "api/docs/"):
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        view = getattr(pattern.callback, "cls", None)
        methods = {m for m in view.http_method_names if hasattr(view, m)} if view else {"get"}
        routes[path] = methods
    return routes


def test_the_generated_openapi_document_has_every_api_route_and_method(client: Client) -> None:
    document = client.get("/api/schema/").json()

    documented = {path: set(operations) for path, operations in document["paths"].items()}
    assert documented == api_routes()
    assert "__Host-coffeeshop-session" in str(document["components"]["securitySchemes"])
