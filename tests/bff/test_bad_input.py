"""Malformed requests to the BFF: a 4xx problem document naming the fault, and nothing
forwarded to Order (its URL points at a closed port here, so a forwarded call would
show up as a failure in Order's circuit breaker, and as a 503)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from bff_site.clients.http import order_service
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from devstack.base import free_port
from shared.problems import TYPE_BASE
from shared.resilience import CircuitBreaker

DEEP = b"[" * 5000 + b"]" * 5000
LINE = {"product_id": 1, "quantity": 1}


@pytest.fixture(autouse=True)
def order_unreachable(settings: Any) -> Iterator[CircuitBreaker]:
    """Order's URL points at a closed port; its breaker starts closed with no history."""
    cache.clear()
    settings.ORDER_URL = f"http://127.0.0.1:{free_port()}"
    order_service.cache_clear()
    breaker = order_service().breaker
    assert breaker is not None
    breaker.reset()
    yield breaker
    order_service.cache_clear()


def forwarded(breaker: CircuitBreaker) -> list[int]:
    """Outcomes of the calls the BFF made to Order (none, when the BFF refused first)."""
    return breaker.store.transact(breaker.name, lambda st: list(st.window))


def signed_in() -> Client:
    client = Client()
    session = client.session
    session[USER_KEY] = {"id": "8080", "email": "c@coffeeshop.test", "name": "C", "roles": []}
    session[TOKENS_KEY] = {
        "access_token": "a",
        "refresh_token": "r",
        "id_token": "i",
        "expires_at": time.time() + 3600,
    }
    session.save()
    cache.set("order-token:customer", "service-token", 300)
    return client


def malformed(detail: str, error: str) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + "malformed-body",
        "title": "Malformed request",
        "status": 400,
        "detail": detail,
        "errors": {"body": [error]},
    }


TOO_DEEP = malformed("The body is nested deeper than 32 levels.", "Nested deeper than 32 levels.")


def test_a_5000_deep_body_to_the_cart_price_is_400_naming_the_depth(client: Client) -> None:
    response = client.post("/api/cart/price", DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == TOO_DEEP


def test_a_5000_deep_order_is_400_naming_the_depth_and_nothing_is_forwarded(
    order_unreachable: CircuitBreaker,
) -> None:
    response = signed_in().post(
        "/api/orders", DEEP, content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )

    assert response.status_code == 400
    assert response.json() == TOO_DEEP
    assert forwarded(order_unreachable) == []


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("café-1", "Only visible ASCII characters (no spaces, no accents)."),
        ("\u2603", "Only visible ASCII characters (no spaces, no accents)."),
        ("two words", "Only visible ASCII characters (no spaces, no accents)."),
        ("k" * 256, "At most 255 characters."),
        ("", "This header is required."),
    ],
)
def test_a_malformed_idempotency_key_is_400_naming_the_header_and_nothing_is_forwarded(
    order_unreachable: CircuitBreaker, key: str, problem: str
) -> None:
    response = signed_in().post(
        "/api/orders",
        {"lines": [LINE]},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": TYPE_BASE + "invalid-input",
        "title": "Invalid input",
        "status": 400,
        "detail": "Send an Idempotency-Key header (1 to 255 visible ASCII characters).",
        "errors": {"Idempotency-Key": [problem]},
    }
    assert forwarded(order_unreachable) == []


def test_a_latin1_idempotency_key_as_a_wsgi_server_passes_it_is_400() -> None:
    # Under gunicorn a header's bytes arrive as latin-1 text: "é" in UTF-8 is "Ã©".
    response = signed_in().post(
        "/api/orders",
        {"lines": [LINE]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="caf\u00c3\u00a9",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"lines": "\xe9"}', "The body is not UTF-8 (invalid byte at position 11)."),
        (b'{"lines": [', "The body is not valid JSON: Expecting value (line 1, column 12)."),
        (b'{"lines": NaN}', "The body is not valid JSON: NaN is not a JSON number."),
        (b'{"lines": -Infinity}', "The body is not valid JSON: -Infinity is not a JSON number."),
        (
            b'{"lines": ' + b"7" * 4400 + b"}",
            "The body is not valid JSON: Exceeds the limit (4300 digits) for integer "
            "string conversion.",
        ),
    ],
)
def test_a_body_that_is_not_json_is_400_saying_why(
    order_unreachable: CircuitBreaker, body: bytes, detail: str
) -> None:
    client = signed_in()

    priced = client.post("/api/cart/price", body, content_type="application/json")
    placed = client.post(
        "/api/orders", body, content_type="application/json", headers={"Idempotency-Key": "k-2"}
    )

    for response in (priced, placed):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == detail
    assert forwarded(order_unreachable) == []


def test_an_unpaired_surrogate_is_refused_before_it_is_forwarded(
    order_unreachable: CircuitBreaker,
) -> None:
    body = json.dumps({"lines": [LINE], "payment_method": "\udc80"}).encode()

    response = signed_in().post(
        "/api/orders", body, content_type="application/json", headers={"Idempotency-Key": "k-3"}
    )

    assert response.status_code == 400
    assert response.json() == malformed(
        "The body has a \\u escape of an unpaired UTF-16 surrogate.",
        "Unpaired surrogate in a string.",
    )
    assert forwarded(order_unreachable) == []


def test_a_json_body_over_the_upload_limit_is_413_naming_the_limit(
    order_unreachable: CircuitBreaker,
) -> None:
    body = json.dumps({"lines": [LINE], "note": "x" * 2_621_440}).encode()

    responses = [
        Client().post("/api/cart/price", body, content_type="application/json"),
        signed_in().post(
            "/api/orders", body, content_type="application/json", headers={"Idempotency-Key": "k"}
        ),
    ]

    for response in responses:
        assert response.status_code == 413
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": TYPE_BASE + "body-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": "The request body is larger than 2621440 bytes.",
            "limit": 2621440,
        }
    assert forwarded(order_unreachable) == []


def test_a_form_body_over_the_upload_limit_is_413_even_before_the_csrf_check() -> None:
    # The CSRF check reads a form body for its token; Django refuses the size there, and
    # the site's 400 handler names it.
    browser = Client(enforce_csrf_checks=True)
    browser.get("/api/session")

    response = browser.post(
        "/auth/logout",
        "a=" + "x" * 2_621_440,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The request body is larger than 2621440 bytes."


def test_a_method_the_endpoint_does_not_take_is_a_405_problem_naming_the_allowed_ones(
    client: Client,
) -> None:
    response = client.delete("/api/cart/price")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {
        "type": TYPE_BASE + "method-not-allowed",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "DELETE is not allowed here; use POST.",
    }


def test_a_non_ascii_authorization_header_is_400_naming_the_header(client: Client) -> None:
    response = client.get("/api/menu", HTTP_AUTHORIZATION="Basic \u00ff\u00fe")

    assert response.status_code == 400
    assert response.json() == {
        "type": TYPE_BASE + "invalid-input",
        "title": "Invalid input",
        "status": 400,
        "detail": "The Authorization header may hold printable ASCII characters only.",
        "errors": {"Authorization": ["Only printable ASCII characters."]},
    }


def test_a_multipart_body_without_a_boundary_is_400_saying_so() -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/api/session")

    response = browser.post("/api/cart/price", b"--x--", content_type="multipart/form-data")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "The multipart body could not be read: Invalid boundary in multipart: None"
    )
